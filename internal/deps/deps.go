//go:build tools

// Package deps pins modules that features under construction will import,
// so that parallel work does not race on go.mod. Remove once each is used.
package deps

import (
	_ "github.com/chromedp/chromedp"
	_ "github.com/hanwen/go-fuse/v2/fs"
	_ "github.com/pelletier/go-toml/v2"
	_ "golang.org/x/image/webp"
)
