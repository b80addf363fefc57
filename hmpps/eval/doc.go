// Package eval measures a personalized product search method offline, the way
// the personalized product search literature does (Ai et al., SIGIR 2017;
// Zhang et al., 2025): replay each user's purchases in time order, hide the
// last one, ask every method to rank it among sampled negatives for a query
// built from its category, and average the ranking metrics over users.
//
// The pieces are separate so that a service can run them on its own data:
//
//   - a Dataset is a catalog of hmpps.Products and a list of Purchases;
//     LoadAmazon reads one from the Amazon review data (2018) format;
//   - CategoryQuery builds a query from a category path;
//   - BuildSplit turns a Dataset into a Split: per user a history, a
//     validation target and a test target, each with its candidate list,
//     written to a file by WriteSplit so every method is scored on the same
//     lists;
//   - a Method scores one Task's candidates: Random, Popularity, BM25,
//     QueryCosine and EngineMethod (an hmpps.Engine and its ablations);
//   - Evaluate runs methods over tasks and returns a Report of HR@k, NDCG@k
//     and MRR with bootstrap confidence intervals; Compare tests two methods
//     on the same tasks.
//
// Ties are broken pessimistically throughout: a target ranks after every
// candidate with an equal score, so a method cannot gain by scoring
// everything alike.
//
// The runnable command is examples/eval (`make eval`).
package eval
