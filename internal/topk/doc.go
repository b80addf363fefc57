// Package topk keeps the best k of a stream of candidates in a bounded
// binary min-heap whose root is the worst of them: the vector scans and the
// lexical search share it, each with its own order.
package topk
