package service

// Optional is one input field of a create or update: Set reports that the
// field was given at all, Null that it was given as null. An update changes
// only the fields that are Set; a Set and Null field clears a nullable
// setting (or restores a default).
type Optional[T any] struct {
	Set   bool
	Null  bool
	Value T
}

// Some is a given, non-null value.
func Some[T any](v T) Optional[T] { return Optional[T]{Set: true, Value: v} }

// Null is a field given as null.
func Null[T any]() Optional[T] { return Optional[T]{Set: true, Null: true} }

// given reports whether the field carries a non-null value.
func (o Optional[T]) given() bool { return o.Set && !o.Null }
