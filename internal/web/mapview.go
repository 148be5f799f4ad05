package web

import (
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/service"
	"github.com/keyway-dev/keyway/internal/store"
	"github.com/keyway-dev/keyway/internal/telemetry"
)

func (d *Dashboard) mapRoutes() []route {
	return []route{
		{pattern: "GET /map", handler: d.mapPage},
		{pattern: "GET /map/land.svg", handler: d.landSVG, public: true},
	}
}

// mapRegion is a region as the map draws it.
type mapRegion struct {
	service.Region
	X, Y float64
	// R is the marker radius, growing with the number of proxies.
	R              float64
	Proxies        int
	Active         int
	Targets        []store.Target
	LabelLeft      bool
	LabelX, LabelY float64
	// Hour and Day are the requests to the region's proxies in the last
	// hour and 24 hours (from telemetry).
	Hour, Day int64
	// Errors is the share of 5xx answers in the last 24 hours.
	Errors string
	// Busy rings the marker when the region had traffic in the last hour.
	Busy bool
	// Label and Traffic are the marker's text.
	Label, Traffic string
}

// mapLine joins the region of some targets to the region their host is in.
type mapLine struct {
	From, To string
	D        string
	Targets  []string
}

type mapData struct {
	ViewBox  string
	VX, VY   float64
	VW, VH   float64
	Placed   []mapRegion
	Unplaced []mapRegion
	Lines    []mapLine
	Total    int
	// Hour and Day are the client's requests in the last hour and 24 hours.
	Hour, Day int64
}

func (d *Dashboard) mapPage(w http.ResponseWriter, r *http.Request) error {
	if clientID(r) == "" {
		return d.render(w, r, http.StatusOK, "noclient", page{Title: "No client"})
	}
	proxies, err := d.svc.ProxyList(r.Context(), current(r).actor, clientID(r), service.ProxyListQuery{})
	if err != nil {
		return err
	}
	ts, err := d.svc.TargetList(r.Context(), current(r).actor, clientID(r))
	if err != nil {
		return err
	}
	hour, day, err := d.regionTraffic(r)
	if err != nil {
		return err
	}
	data := buildMap(d.svc.Regions(), proxies, ts, trafficByRegion(proxies, hour, day))
	return d.render(w, r, http.StatusOK, "map", page{Title: "Map", Section: "/map", Data: data})
}

// regionTraffic reads every proxy's totals of the last hour (by minute)
// and the last 24 hours (by hour).
func (d *Dashboard) regionTraffic(r *http.Request) (hour, day map[string]telemetry.Point, err error) {
	now := d.now()
	actor, cid := current(r).actor, clientID(r)
	hour, err = d.svc.ProxyTraffic(r.Context(), actor, cid, service.TelemetryQuery{
		From: now.Add(-time.Hour).Format(time.RFC3339), Interval: store.IntervalMinute})
	if err != nil {
		return nil, nil, err
	}
	day, err = d.svc.ProxyTraffic(r.Context(), actor, cid, service.TelemetryQuery{
		From: now.Add(-24 * time.Hour).Format(time.RFC3339), Interval: store.IntervalHour})
	return hour, day, err
}

// regionLoad is a region's traffic.
type regionLoad struct {
	hour, day, day5xx int64
}

func trafficByRegion(proxies []service.ProxyView, hour, day map[string]telemetry.Point) map[string]regionLoad {
	out := map[string]regionLoad{}
	for _, p := range proxies {
		l := out[p.Region]
		l.hour += hour[p.ID].Requests
		l.day += day[p.ID].Requests
		l.day5xx += day[p.ID].Status5xx
		out[p.Region] = l
	}
	return out
}

// buildMap places the regions and draws a line for every target whose
// location is known. keyway knows where a host is only when it is a
// region's public host (a target that is another keyway region, or runs
// beside one); any other host's location is unknown, so it is listed
// under its region but not drawn. A region at exactly 0°, 0° (the default
// "local" region has no coordinates) is listed, not placed.
func buildMap(regions []service.Region, proxies []service.ProxyView, targets []store.Target, load map[string]regionLoad) mapData {
	x, y, w, h := viewBox()
	data := mapData{ViewBox: viewBoxAttr(), VX: x, VY: y, VW: w, VH: h, Total: len(proxies)}
	byID := map[string]*mapRegion{}
	var all []*mapRegion
	for _, rg := range regions {
		mr := &mapRegion{Region: rg}
		mr.X, mr.Y = project(rg.Longitude, rg.Latitude)
		byID[rg.ID] = mr
		all = append(all, mr)
	}
	for _, p := range proxies {
		if mr := byID[p.Region]; mr != nil {
			mr.Proxies++
			if p.Active {
				mr.Active++
			}
		}
	}
	hostRegion := map[string]string{}
	for _, rg := range regions {
		if u, err := url.Parse(rg.PublicURL); err == nil && u.Hostname() != "" {
			hostRegion[strings.ToLower(u.Hostname())] = rg.ID
		}
	}
	lines := map[[2]string]*mapLine{}
	var order [][2]string
	for _, t := range targets {
		if mr := byID[t.Region]; mr != nil {
			mr.Targets = append(mr.Targets, t)
		}
		u, err := url.Parse(t.BaseURL)
		if err != nil {
			continue
		}
		to, ok := hostRegion[strings.ToLower(u.Hostname())]
		if !ok || to == t.Region || byID[t.Region] == nil {
			continue
		}
		key := [2]string{t.Region, to}
		if lines[key] == nil {
			lines[key] = &mapLine{From: t.Region, To: to}
			order = append(order, key)
		}
		lines[key].Targets = append(lines[key].Targets, t.Name)
	}
	for _, mr := range all {
		l := load[mr.ID]
		mr.Hour, mr.Day, mr.Busy = l.hour, l.day, l.hour > 0
		data.Hour, data.Day = data.Hour+l.hour, data.Day+l.day
		if l.day > 0 {
			mr.Errors = shareOf(l.day5xx, l.day)
		}
		// The halo grows with the proxies and, more, with the last day's traffic.
		mr.R = 6 + 3*math.Sqrt(float64(mr.Proxies)) + 2.2*math.Log10(1+float64(l.day))
		// A label that would run off the right edge goes to the left of
		// its marker (about 7.5 units per character at the label's size).
		mr.Label = fmt.Sprintf("%s · %d", mr.Name, mr.Proxies)
		if l.day > 0 {
			mr.Traffic = " · " + compactCount(float64(l.day)) + " req/24 h"
		}
		mr.LabelLeft = mr.X+mr.R+6+7.5*float64(len([]rune(mr.Label+mr.Traffic))) > x+w
		mr.LabelX, mr.LabelY = mr.X+mr.R+6, mr.Y+4
		if mr.LabelLeft {
			mr.LabelX = mr.X - mr.R - 6
		}
		if mr.Latitude == 0 && mr.Longitude == 0 {
			data.Unplaced = append(data.Unplaced, *mr)
		} else {
			data.Placed = append(data.Placed, *mr)
		}
	}
	for _, k := range order {
		a, b := byID[k[0]], byID[k[1]]
		if (a.Latitude == 0 && a.Longitude == 0) || (b.Latitude == 0 && b.Longitude == 0) {
			continue
		}
		l := lines[k]
		l.D = arc(a.X, a.Y, b.X, b.Y)
		data.Lines = append(data.Lines, *l)
	}
	return data
}

// arc is a quadratic curve from one point to another, bowed towards the
// top of the map like a great-circle route.
func arc(x1, y1, x2, y2 float64) string {
	mx, my := (x1+x2)/2, (y1+y2)/2
	dist := math.Hypot(x2-x1, y2-y1)
	return fmt.Sprintf("M%.1f %.1fQ%.1f %.1f %.1f %.1f", x1, y1, mx, my-dist*0.25, x2, y2)
}

// landSVG is the land outline, drawn once at start; it never changes
// while the binary runs.
func (d *Dashboard) landSVG(w http.ResponseWriter, _ *http.Request) error {
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(d.world.svg)
	return nil
}
