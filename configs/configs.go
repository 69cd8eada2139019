// Package configs embeds the run configurations shipped with dropexp, so the
// binary carries its default (demo.yaml) and the paper's protocols wherever it
// is copied.
package configs

import "embed"

// FS holds every *.yaml file of this directory.
//
//go:embed *.yaml
var FS embed.FS
