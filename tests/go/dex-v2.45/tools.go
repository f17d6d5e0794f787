//go:build tools

// Package tools pins the Dex release the lab runs: `go build github.com/dexidp/dex/cmd/dex`
// in this module builds it from the Go module proxy (see scripts/build-go-peers).
package tools

import _ "github.com/dexidp/dex/cmd/dex"
