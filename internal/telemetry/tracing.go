package telemetry

import (
	"context"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
)

// TracingOptions configure OpenTelemetry tracing.
type TracingOptions struct {
	// Endpoint is the OTLP/HTTP traces URL, e.g.
	// http://127.0.0.1:4318/v1/traces; empty disables tracing.
	Endpoint string
	// SampleRatio is the share of new traces recorded (0–1); a caller's
	// sampled flag is honoured either way.
	SampleRatio float64
	// ServiceName and Version name this process in the traces.
	ServiceName string
	Version     string
}

// Tracing is an OpenTelemetry tracer exporting over OTLP/HTTP.
type Tracing struct {
	tp *sdktrace.TracerProvider
	// Tracer starts keyway's spans.
	Tracer trace.Tracer
	// Propagator reads and writes W3C traceparent and tracestate.
	Propagator propagation.TextMapPropagator
}

// NewTracing sets up tracing; it returns nil when o.Endpoint is empty.
// Spans are batched and exported in the background, so an unreachable
// collector costs nothing on the request path.
func NewTracing(ctx context.Context, o TracingOptions) (*Tracing, error) {
	if o.Endpoint == "" {
		return nil, nil
	}
	exp, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(o.Endpoint), otlptracehttp.WithTimeout(10*time.Second))
	if err != nil {
		return nil, fmt.Errorf("setting up the OTLP exporter: %w", err)
	}
	if o.ServiceName == "" {
		o.ServiceName = "keyway"
	}
	res := resource.NewSchemaless(semconv.ServiceName(o.ServiceName), semconv.ServiceVersion(o.Version))
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp),
		sdktrace.WithResource(res),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(o.SampleRatio))),
	)
	return &Tracing{
		tp:         tp,
		Tracer:     tp.Tracer("github.com/keyway-dev/keyway/internal/dataplane"),
		Propagator: propagation.TraceContext{},
	}, nil
}

// Shutdown exports what is pending and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t == nil {
		return nil
	}
	return t.tp.Shutdown(ctx)
}
