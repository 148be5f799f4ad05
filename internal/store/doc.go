// Package store is keyway's storage port: the row types, the Store interface
// every adapter implements, and the sentinel errors callers branch on. It
// imports no other keyway package; adapters live in store/sqlite and
// store/postgres and share one conformance suite in store/storetest.
package store
