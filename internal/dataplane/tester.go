package dataplane

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/keyway-dev/keyway/internal/egress"
	"github.com/keyway-dev/keyway/internal/inject"
	"github.com/keyway-dev/keyway/internal/snapshot"
	"github.com/keyway-dev/keyway/internal/store"
)

// Preparer builds targets and injectors outside a snapshot (snapshot.Manager).
type Preparer interface {
	Target(t store.Target) (*snapshot.Target, error)
	Injector(c store.Credential) (inject.Injector, error)
}

// Tester runs "test connection": a GET of the target's test path with the
// chosen target credential, through the same transport and egress guard as
// proxied calls.
type Tester struct {
	Prep Preparer
	Now  func() time.Time
}

// TestResult is the outcome of a connection test.
type TestResult struct {
	Status    int
	LatencyMs float64
	Code      string
	Message   string
}

// TestTarget calls the target's test path once.
func (t Tester) TestTarget(ctx context.Context, st store.Target, sc store.Credential) (TestResult, error) {
	target, err := t.Prep.Target(st)
	if err != nil {
		return TestResult{}, err
	}
	inj, err := t.Prep.Injector(sc)
	if err != nil {
		return TestResult{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, target.Timeout)
	defer cancel()
	applier, err := inj.Prepare(ctx)
	if err != nil {
		return TestResult{Code: codeTargetAuthFailed, Message: targetAuthMessage(err)}, nil
	}
	path := st.TestPath
	if path == "" {
		path = "/"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.Scheme+"://"+target.Host+target.BaseRawPath+"/"+strings.TrimPrefix(path, "/"), nil)
	if err != nil {
		return TestResult{Code: codeBadRequest, Message: "test path is not a valid URL path"}, nil
	}
	for k, v := range target.Headers {
		req.Header[k] = v
	}
	applier.Apply(req)
	start := t.Now()
	resp, err := target.Transport.RoundTrip(req)
	latency := float64(t.Now().Sub(start).Microseconds()) / 1000
	if err != nil {
		code, msg := classifyTestError(err)
		return TestResult{LatencyMs: latency, Code: code, Message: msg}, nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	return TestResult{Status: resp.StatusCode, LatencyMs: latency, Code: codeGranted, Message: "Target answered " + resp.Status}, nil
}

func classifyTestError(err error) (string, string) {
	var blocked *egress.BlockedError
	var nerr net.Error
	switch {
	case errors.As(err, &blocked):
		return codeUnreachable, "Target address is blocked by the egress policy (" + blocked.Rule + ")"
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &nerr) && nerr.Timeout():
		return codeTimeout, "Target did not answer in time"
	}
	return codeUnreachable, "Target could not be reached: " + unreachableReason(err)
}
