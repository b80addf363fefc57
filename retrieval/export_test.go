package retrieval

// RequireConsistent lets the tests of package retrieval_test, which compare
// the embedded index with indextest's brute-force reference from outside
// the package, check its internal invariants too.
var RequireConsistent = requireConsistent
