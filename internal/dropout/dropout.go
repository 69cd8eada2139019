// Package dropout applies the dropout variants of "Demystifying Dropout",
// which package experiment declares (plain, standard, forward, backward,
// augmented): the per-site mask sampler with each variant's mask rule, and
// the Gorgonia ops that apply a site's forward and backward masks inside a
// convolution or a fully connected layer: which inputs each op and gradient
// op takes, and which mask each gradient sees. How a convolution is
// computed is internal/conv's.
package dropout
