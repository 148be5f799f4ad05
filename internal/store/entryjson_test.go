package store

import (
	"encoding/json"
	"reflect"
	"testing"
)

func FuzzAppendEntry(f *testing.F) {
	f.Add("GET", "/a/\"b\"\n", "X-Head", "v\x00\xff✓", "code", int64(-1), []byte(`{"history":[]}`), true)
	f.Fuzz(func(t *testing.T, method, path, hk, hv, code string, n int64, detail []byte, cut bool) {
		le := logEntry{Method: method, Path: path, Headers: map[string]string{hk: hv, "b": hv + hk}, Params: map[string]string{hv: hk},
			ReceivedAt: n, SentAt: n / 2, Code: code, Message: hv, DurationUs: n, OverheadUs: -n, UpstreamUs: 3,
			RuleID: hk, TraceID: hv, Attempts: int(n % 100), NextAttemptAt: &n, RequestBodyCut: cut}
		if json.Valid(detail) {
			le.Detail = detail
		}
		got := appendEntry(nil, &le)
		std, _ := json.Marshal(le)
		var a, b logEntry
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("invalid JSON %q: %v", got, err)
		}
		if err := json.Unmarshal(std, &b); err != nil {
			t.Fatal(err)
		}
		a.Detail, b.Detail = nil, nil // compared as raw bytes they may differ in spacing
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("decoded\n%+v\nwant\n%+v", a, b)
		}
	})
}
