// Package filters applies response filters (SPEC §5) to JSON answers. A
// filter either retains only the given dot paths or destroys them. Filters
// come in four stages, applied in the order target credential → target →
// proxy credential → proxy; inside a stage the union of its retain paths is
// applied first, then the union of its destroy paths. Each stage works on
// the previous stage's output, so a removed field never comes back.
//
// Filters work on the raw JSON text: what is kept keeps its bytes, key
// order and number formatting; only the containers on a filter path are
// rewritten (compactly). The package is pure: the data plane decides when
// to call it (2xx JSON answers) and what to answer otherwise.
//
// Retain keeps a container that lies on a retained path even when nothing
// inside it is retained ({"user":{"id":1}} retaining user.name gives
// {"user":{}}), keeps array positions for retained elements, and drops
// values of the wrong type (a string where the path expects an object).
// Duplicate object keys are treated alike: all are kept or all removed.
package filters
