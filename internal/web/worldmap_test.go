package web

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

func TestLandPathHasNoLineAcrossTheMap(t *testing.T) {
	t.Parallel()
	path, err := landPath(landTopoJSON)
	if err != nil {
		t.Fatal(err)
	}
	for _, sub := range strings.Split(path, "Z") {
		var last, lastY float64
		first := true
		for _, cmd := range strings.FieldsFunc(sub, func(r rune) bool { return r == 'M' || r == 'L' }) {
			var x, y float64
			if _, err := fmt.Sscan(cmd, &x, &y); err != nil {
				t.Fatalf("bad path command %q: %v", cmd, err)
			}
			if x < -0.05 || x > mapWidth+0.05 {
				t.Fatalf("x %v outside the map", x)
			}
			atPole := (y == 0 || y == mapHeight) && y == lastY
			if !first && math.Abs(x-last) > mapWidth/2 && !atPole {
				t.Fatalf("a segment jumps from x=%v to x=%v: the antimeridian was not cut", last, x)
			}
			last, lastY, first = x, y, false
		}
	}
}

func TestCutRing(t *testing.T) {
	t.Parallel()
	// A square straddling the antimeridian becomes two closed pieces, one
	// on each edge.
	ring := [][2]float64{{170, 10}, {-170, 10}, {-170, -10}, {170, -10}, {170, 10}}
	pieces := cutRing(ring)
	if len(pieces) != 2 {
		t.Fatalf("pieces = %v", pieces)
	}
	for _, p := range pieces {
		west := p[0][0] < 0
		for _, pt := range p {
			if (pt[0] < 0) != west {
				t.Fatalf("piece %v has points on both sides", p)
			}
		}
	}
	// A ring around the south pole crosses once and is closed along the pole.
	polar := [][2]float64{{-170, -70}, {0, -65}, {170, -70}, {-170, -70}}
	got := cutRing(polar)
	if len(got) != 1 {
		t.Fatalf("polar pieces = %v", got)
	}
	last := got[0][len(got[0])-1]
	if last[1] != -90 {
		t.Fatalf("polar ring not closed along the pole: %v", got[0])
	}
	if lat := crossingLat([2]float64{170, 0}, [2]float64{-170, 10}); math.Abs(lat-5) > 1e-9 {
		t.Fatalf("crossing latitude %v, want 5", lat)
	}
	// A ring that never crosses is left alone.
	plain := [][2]float64{{0, 0}, {10, 0}, {10, 10}, {0, 0}}
	if got := cutRing(plain); len(got) != 1 || len(got[0]) != 3 {
		t.Fatalf("plain ring: %v", got)
	}
}
