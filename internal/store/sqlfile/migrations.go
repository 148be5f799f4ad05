package sqlfile

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
)

// Migration is one numbered schema change with its revert.
type Migration struct {
	Version  int
	Name     string
	Up, Down string
}

// Migrations is an adapter's parsed migrations directory, ordered by version.
type Migrations []Migration

var migrationName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$`)

// MustMigrations parses dir in fsys and panics on any problem (owner names
// the adapter in the message).
func MustMigrations(owner string, fsys fs.FS, dir string) Migrations {
	ms, err := ParseMigrations(fsys, dir)
	if err != nil {
		panic(owner + ": migrations: " + err.Error())
	}
	return ms
}

// ParseMigrations reads NNNN_name.up.sql / NNNN_name.down.sql pairs from dir
// and fails unless every version has both files under one name.
func ParseMigrations(fsys fs.FS, dir string) (Migrations, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*Migration{}
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("unexpected file %q", e.Name())
		}
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		mig := byVersion[v]
		if mig == nil {
			mig = &Migration{Version: v, Name: m[2]}
			byVersion[v] = mig
		}
		if mig.Name != m[2] {
			return nil, fmt.Errorf("version %d has two names: %q and %q", v, mig.Name, m[2])
		}
		if m[3] == "up" {
			mig.Up = string(body)
		} else {
			mig.Down = string(body)
		}
	}
	if byVersion[0] != nil {
		return nil, fmt.Errorf("version 0000 is reserved; start at 0001")
	}
	out := make(Migrations, 0, len(byVersion))
	for v, mig := range byVersion {
		if mig.Up == "" || mig.Down == "" {
			return nil, fmt.Errorf("version %d needs both an up and a down file", v)
		}
		out = append(out, *mig)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Find returns the migration with version v.
func (ms Migrations) Find(v int) (Migration, bool) {
	i := slices.IndexFunc(ms, func(m Migration) bool { return m.Version == v })
	if i < 0 {
		return Migration{}, false
	}
	return ms[i], true
}

// Latest is the highest version, or 0 when there is none.
func (ms Migrations) Latest() int {
	if len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// Versions lists every version in order.
func (ms Migrations) Versions() []int {
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = m.Version
	}
	return out
}

// Unknown returns, sorted, the applied versions this binary does not ship
// (a newer keyway applied them).
func (ms Migrations) Unknown(applied []int) []int {
	var out []int
	for _, v := range applied {
		if _, ok := ms.Find(v); !ok {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}
