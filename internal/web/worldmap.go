package web

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// landTopoJSON is the world's land at 1:110m (Natural Earth, public
// domain, via world-atlas; see mapdata/README.md and NOTICE).
//
//go:embed mapdata/land-110m.json
var landTopoJSON []byte

// Map geometry: an equirectangular projection onto a mapWidth × mapHeight
// plane, cropped to the latitudes people live at.
const (
	mapWidth  = 1000.0
	mapHeight = 500.0
	mapTopLat = 84.0
	mapBotLat = -58.0
)

// worldMap is the land drawn once at start, as an SVG document.
type worldMap struct {
	svg []byte
}

// project maps longitude/latitude to map coordinates.
func project(lon, lat float64) (x, y float64) {
	return (lon + 180) / 360 * mapWidth, (90 - lat) / 180 * mapHeight
}

// viewBox is the cropped area of the plane the map shows.
func viewBox() (x, y, w, h float64) {
	_, top := project(0, mapTopLat)
	_, bot := project(0, mapBotLat)
	return 0, top, mapWidth, bot - top
}

func viewBoxAttr() string {
	x, y, w, h := viewBox()
	return fmt.Sprintf("%g %.1f %g %.1f", x, y, w, h)
}

func loadWorldMap() (*worldMap, error) {
	path, err := landPath(landTopoJSON)
	if err != nil {
		return nil, fmt.Errorf("decoding map data: %w", err)
	}
	svg := `<svg xmlns="http://www.w3.org/2000/svg" viewBox="` + viewBoxAttr() + `">` +
		`<path fill="#d6dde6" stroke="#c3ccd8" stroke-width="0.4" d="` + path + `"/></svg>`
	return &worldMap{svg: []byte(svg)}, nil
}

// topology is the part of a TopoJSON document the map needs.
type topology struct {
	Type    string `json:"type"`
	Objects map[string]struct {
		Type       string `json:"type"`
		Geometries []struct {
			Type string          `json:"type"`
			Arcs json.RawMessage `json:"arcs"`
		} `json:"geometries"`
	} `json:"objects"`
	Arcs      [][][2]float64 `json:"arcs"`
	Transform *struct {
		Scale     [2]float64 `json:"scale"`
		Translate [2]float64 `json:"translate"`
	} `json:"transform"`
}

// landPath decodes the "land" object of a TopoJSON topology into an SVG
// path: quantized, delta-encoded arcs are decoded to longitude/latitude,
// stitched into rings (a negative index ~i is arc i reversed) and
// projected.
func landPath(data []byte) (string, error) {
	var t topology
	if err := json.Unmarshal(data, &t); err != nil {
		return "", err
	}
	if t.Type != "Topology" {
		return "", errors.New("not a TopoJSON topology")
	}
	land, ok := t.Objects["land"]
	if !ok {
		return "", errors.New(`no "land" object`)
	}
	arcs := decodeArcs(t)
	var b strings.Builder
	for _, g := range land.Geometries {
		var polys [][][]int
		switch g.Type {
		case "Polygon":
			var rings [][]int
			if err := json.Unmarshal(g.Arcs, &rings); err != nil {
				return "", err
			}
			polys = [][][]int{rings}
		case "MultiPolygon":
			if err := json.Unmarshal(g.Arcs, &polys); err != nil {
				return "", err
			}
		default:
			continue
		}
		for _, rings := range polys {
			for _, ring := range rings {
				if err := writeRing(&b, arcs, ring); err != nil {
					return "", err
				}
			}
		}
	}
	if b.Len() == 0 {
		return "", errors.New("the land object has no polygons")
	}
	return b.String(), nil
}

// decodeArcs turns quantized delta-encoded arcs into absolute lon/lat.
func decodeArcs(t topology) [][][2]float64 {
	out := make([][][2]float64, len(t.Arcs))
	for i, arc := range t.Arcs {
		pts := make([][2]float64, len(arc))
		var x, y float64
		for j, p := range arc {
			if t.Transform == nil {
				pts[j] = p
				continue
			}
			x, y = x+p[0], y+p[1]
			pts[j] = [2]float64{x*t.Transform.Scale[0] + t.Transform.Translate[0], y*t.Transform.Scale[1] + t.Transform.Translate[1]}
		}
		out[i] = pts
	}
	return out
}

// writeRing appends one ring, cut at the antimeridian, as closed
// subpaths "M x y L … Z", dropping points that land on the previous one at
// the map's precision.
func writeRing(b *strings.Builder, arcs [][][2]float64, ring []int) error {
	var pts [][2]float64
	for _, idx := range ring {
		i := idx
		if i < 0 {
			i = ^i
		}
		if i >= len(arcs) {
			return fmt.Errorf("arc %d out of range", i)
		}
		arc := arcs[i]
		for k := range arc {
			p := arc[k]
			if idx < 0 {
				p = arc[len(arc)-1-k]
			}
			if len(pts) > 0 && k == 0 {
				continue // an arc starts where the previous one ended
			}
			pts = append(pts, p)
		}
	}
	for _, piece := range cutRing(pts) {
		writePiece(b, piece)
	}
	return nil
}

func writePiece(b *strings.Builder, pts [][2]float64) {
	first := true
	var lastX, lastY float64
	for _, p := range pts {
		x, y := project(p[0], p[1])
		x, y = math.Round(x*10)/10, math.Round(y*10)/10
		switch {
		case first:
			b.WriteString("M" + num(x) + " " + num(y))
			first = false
		case x == lastX && y == lastY:
			continue
		default:
			b.WriteString("L" + num(x) + " " + num(y))
		}
		lastX, lastY = x, y
	}
	if !first {
		b.WriteString("Z")
	}
}

// cutRing splits a closed ring of lon/lat points where it crosses the
// antimeridian (a step of more than 180° in longitude), so a flat map does
// not draw a line across the whole world. Each piece is closed along the
// map's edge; a ring that crosses once (around a pole, like Antarctica) is
// closed along the pole's side of the map.
func cutRing(pts [][2]float64) [][][2]float64 {
	n := len(pts)
	if n > 1 && pts[0] == pts[n-1] {
		n-- // treat the ring as a cycle without its closing point
	}
	crosses := func(i int) bool { return math.Abs(pts[(i+1)%n][0]-pts[i][0]) > 180 }
	start := -1
	count := 0
	for i := 0; i < n; i++ {
		if crosses(i) {
			if start < 0 {
				start = i
			}
			count++
		}
	}
	if start < 0 {
		return [][][2]float64{pts[:n]}
	}
	var pieces [][][2]float64
	var cur [][2]float64
	for k := 1; k <= n; k++ {
		i := (start + k) % n
		prev := (i - 1 + n) % n
		if crosses(prev) {
			a, b := pts[prev], pts[i]
			lat := crossingLat(a, b)
			if cur != nil {
				pieces = append(pieces, append(cur, [2]float64{edge(a[0]), lat}))
			}
			cur = [][2]float64{{edge(b[0]), lat}}
		}
		cur = append(cur, pts[i])
	}
	// The walk ends on the point before the first crossing; close there.
	a, b := pts[start], pts[(start+1)%n]
	pieces = append(pieces, append(cur, [2]float64{edge(a[0]), crossingLat(a, b)}))
	if count%2 == 1 {
		pole := 90.0
		if pts[0][1] < 0 {
			pole = -90
		}
		for i, p := range pieces {
			first, last := p[0], p[len(p)-1]
			if first[0] != last[0] {
				pieces[i] = append(p, [2]float64{last[0], pole}, [2]float64{first[0], pole})
			}
		}
	}
	return pieces
}

// edge is the map edge (±180°) on the side of a longitude.
func edge(lon float64) float64 {
	if lon < 0 {
		return -180
	}
	return 180
}

// crossingLat is the latitude where the segment a→b meets the antimeridian.
func crossingLat(a, b [2]float64) float64 {
	bl, at := b[0]-360, -180.0 // a east of b: going west past -180
	if a[0] > 0 {
		bl, at = b[0]+360, 180 // going east past +180
	}
	if bl == a[0] {
		return a[1]
	}
	t := (at - a[0]) / (bl - a[0])
	return a[1] + (b[1]-a[1])*t
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
