package telemetry

import (
	"net/http"

	"github.com/keyway-dev/keyway/internal/snapshot"
)

// RedactRequest redacts a request's headers and raw query with the rules of
// the request log (sensitive header and parameter names, headers an
// injected credential sets, injected credential values in any form), for
// requests whose originals are kept elsewhere: an async request stores what
// the caller sent, since it is forwarded at delivery, and is shown through
// this. p is the proxy as the snapshot has it now; nil (a deleted proxy)
// redacts by name only. Maps are never nil.
func (r *Redactor) RedactRequest(p *snapshot.Proxy, h http.Header, rawQuery string) (headers, params map[string]string) {
	ev := &Event{Proxy: p, Header: h}
	sc := &scrubber{}
	if p != nil {
		sc = r.newScrubber(ev)
	} else {
		ev.Proxy = &snapshot.Proxy{}
	}
	headers, params = r.headerMap(ev, sc), r.paramMap(rawQuery, sc)
	if headers == nil {
		headers = map[string]string{}
	}
	if params == nil {
		params = map[string]string{}
	}
	return headers, params
}
