package postgres

import "testing"

// TestSeedsRoundTrip writes every upgrade seed on a fresh database and
// reads them back, so a seed is known to work before any dump holds it.
func TestSeedsRoundTrip(t *testing.T) {
	t.Parallel()
	s, _ := openTest(t)
	for _, sd := range seeds {
		sd.write(t, s)
	}
	for _, sd := range seeds {
		sd.check(t, s)
	}
}
