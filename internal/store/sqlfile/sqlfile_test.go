package sqlfile

import (
	"slices"
	"testing"
	"testing/fstest"
)

func TestParseQueries(t *testing.T) {
	t.Parallel()
	got, err := ParseQueries("-- comment\n-- name: A\nSELECT 1;\n\n-- note\n-- name: B\nSELECT\n  2\n")
	if err != nil {
		t.Fatal(err)
	}
	if got["A"] != "SELECT 1" || got["B"] != "SELECT\n  2" || len(got) != 2 {
		t.Errorf("ParseQueries: %q", got)
	}
	for _, bad := range []string{
		"-- name: A\nSELECT 1;\n-- name: A\nSELECT 2;", // duplicate
		"-- name: A\n-- name: B\nSELECT 2;",            // empty
		"SELECT 1;\n-- name: A\nSELECT 2;",             // before a marker
		"-- name:\nSELECT 1;",                          // no name
	} {
		if _, err := ParseQueries(bad); err == nil {
			t.Errorf("ParseQueries(%q) succeeded", bad)
		}
	}
}

func TestQueries(t *testing.T) {
	t.Parallel()
	type two struct{ A, B string }
	qs, err := Queries[two]("-- name: A\nSELECT 1;\n-- name: B\nSELECT 2;")
	if err != nil || qs.A != "SELECT 1" || qs.B != "SELECT 2" {
		t.Fatalf("Queries: %+v %v", qs, err)
	}
	for _, bad := range []string{
		"-- name: A\nSELECT 1;", // B missing
		"-- name: A\nSELECT 1;\n-- name: B\nSELECT 2;\n-- name: C\nX", // C has no field
	} {
		if _, err := Queries[two](bad); err == nil {
			t.Errorf("Queries(%q) succeeded", bad)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("MustQueries with a missing query did not panic")
		}
	}()
	MustQueries[two]("test", "test.sql", "-- name: A\nSELECT 1;")
}

func TestParseMigrations(t *testing.T) {
	t.Parallel()
	fsys := fstest.MapFS{
		"m/0003_later.up.sql":   {Data: []byte("C")},
		"m/0003_later.down.sql": {Data: []byte("c")},
		"m/0001_init.up.sql":    {Data: []byte("A")},
		"m/0001_init.down.sql":  {Data: []byte("a")},
	}
	ms, err := ParseMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ms.Versions(), []int{1, 3}) || ms.Latest() != 3 {
		t.Fatalf("versions %v latest %d", ms.Versions(), ms.Latest())
	}
	if m, ok := ms.Find(3); !ok || m.Name != "later" || m.Up != "C" || m.Down != "c" {
		t.Errorf("Find(3) = %+v %v", m, ok)
	}
	if _, ok := ms.Find(2); ok {
		t.Error("Find(2) found a migration in the gap")
	}
	if got := ms.Unknown([]int{9, 1, 2, 3}); !slices.Equal(got, []int{2, 9}) {
		t.Errorf("Unknown = %v", got)
	}
	if (Migrations{}).Latest() != 0 {
		t.Error("Latest of none != 0")
	}

	for name, bad := range map[string]fstest.MapFS{
		"missing down": {"m/0001_a.up.sql": {Data: []byte("A")}},
		"two names":    {"m/0001_a.up.sql": {Data: []byte("A")}, "m/0001_b.down.sql": {Data: []byte("a")}},
		"stray file":   {"m/README": {Data: []byte("x")}},
		"version zero": {"m/0000_a.up.sql": {Data: []byte("A")}, "m/0000_a.down.sql": {Data: []byte("a")}},
	} {
		if _, err := ParseMigrations(bad, "m"); err == nil {
			t.Errorf("%s: ParseMigrations succeeded", name)
		}
	}
}
