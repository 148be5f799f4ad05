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

// writeRing appends one closed ring as "M x y L … Z", dropping points that
// would land on the previous one at the map's precision.
func writeRing(b *strings.Builder, arcs [][][2]float64, ring []int) error {
	first := true
	var lastX, lastY float64
	for _, idx := range ring {
		i := idx
		if i < 0 {
			i = ^i
		}
		if i >= len(arcs) {
			return fmt.Errorf("arc %d out of range", i)
		}
		pts := arcs[i]
		for k := range pts {
			p := pts[k]
			if idx < 0 {
				p = pts[len(pts)-1-k]
			}
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
	}
	if !first {
		b.WriteString("Z")
	}
	return nil
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }
