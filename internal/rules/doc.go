// Package rules compiles and evaluates authorization rules (SPEC §4). It
// is pure: no I/O, no clock, no storage types. The snapshot compiles every
// rule once when it is built; the data plane evaluates compiled rules per
// request without allocating for the common cases (method, path and
// header checks).
//
// Semantics, in one place:
//
//   - A rule matches when every component it gives holds: the method is in
//     methods (empty = any), pathPattern matches (or, with pathPresence
//     "absent", does not match) the target path, and every header, query
//     and body check holds.
//   - Patterns are Go RE2 regular expressions, unanchored (use ^ and $ to
//     match a whole value), with the rule's regexFlags i, m, s applied to
//     all of its patterns (g is accepted and ignored). Header name
//     patterns are always case-insensitive.
//   - A header or query check with presence "present" (the default) holds
//     when some header/parameter has a name matching namePattern and, if
//     valuePattern is given, some value of it matches; "absent" holds when
//     that is not so. Repeated headers and query keys therefore match if
//     any of their values matches.
//   - A body check looks at the JSON request body: "present" holds when the
//     dot path selects a value whose text (a string's content, otherwise the
//     JSON text such as true or 42) matches valuePattern (any value when
//     none is given). A rule with body checks never matches a body that is
//     not JSON.
//   - In each of the four scopes (proxy credential, target credential,
//     proxy, target) a matching deny rule denies, else a matching allow rule
//     allows, else the scope's default effect decides. A request passes only
//     when every scope allows. The deciding rule is the matching rule of the
//     winning effect with the highest priority (ties: the order given,
//     which the store keeps as creation order).
package rules
