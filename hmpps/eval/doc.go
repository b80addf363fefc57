// Package eval measures a personalized product search method offline, the way
// the personalized product search literature does (Ai et al., SIGIR 2017;
// Zhang et al., 2025): replay each user's purchases in time order, hide the
// last one, ask every method to rank it for a query built from its
// category, and average the ranking metrics over users. It has two
// protocols: the target among sampled negatives (the literature's), and the
// target in the whole catalog (a shop's).
//
// The pieces are separate so that a service can run them on its own data:
//
//   - a Dataset is a catalog of hmpps.Products and a list of Purchases;
//     LoadAmazon reads one from the Amazon review data (2018) format, and
//     LoadRecBole from RecBole's atomic files (UniSRec's Amazon sets);
//   - CategoryQuery and CategoryWords build a query from a category path;
//   - BuildSplit turns a Dataset into a Split: per user a history, a
//     validation target and a test target, each with its candidate list,
//     written to a file by WriteSplit so every method is scored on the same
//     lists;
//   - BuildLeaveOneOut turns it into a LeaveOneOut, the split of
//     sequential recommendation (the one RecBole's files define): its tasks
//     carry no candidates and are ranked against the whole catalog by
//     EvaluateCatalog, or among negatives drawn by SampledTasks; it gives the
//     training examples and sequences the learned methods learn from;
//   - a Method scores one Task's candidates: Random, Popularity, BM25,
//     QueryCosine, CoPurchase (BM25 with what shoppers bought together,
//     tuned by TuneCoPurchase) and EngineMethod (an hmpps.Engine and its
//     ablations, ranking given candidates or retrieving its own);
//   - Evaluate and EvaluateCatalog run methods over tasks and return a
//     Report of HR@k, NDCG@k, MRR and Recall@100 with bootstrap confidence
//     intervals; Compare tests two methods on the same tasks.
//
// Ties are broken pessimistically throughout: a target ranks after every
// candidate with an equal score, so a method cannot gain by scoring
// everything alike.
//
// The runnable command is examples/eval (`make eval`).
package eval
