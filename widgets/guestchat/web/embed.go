// Package web holds the citizens' guest chat page: the HTML shell, its ES
// modules and stylesheet, embedded in the binary. It owns no HTTP handlers;
// the guest chat server renders [Page] and serves [Assets] under /assets/,
// and the shared kit (widgets/internal/webkit) under /assets/kit/, which
// the modules import as './kit/<file>'. The API the scripts talk to is
// described in docs/guest-chat.md.
package web

import (
	"embed"
	"html/template"
	"io/fs"
)

//go:embed page.html
var pageHTML string

// The test files (*.test.mjs) are not matched and so never served.
//
//go:embed assets/*.js assets/*.css assets/*.svg
var assetFiles embed.FS

// Assets is the content of the asset directory (app.js, style.css, …),
// served under /assets/. The page asks for /assets/<name>?v=<AssetVersion>
// (and /assets/kit/base.css); modules import each other and the kit by
// relative path.
var Assets fs.FS = mustSub(assetFiles, "assets")

// Page renders the chat page from a [PageData].
var Page = template.Must(template.New("page.html").Parse(pageHTML))

// PageData is what the server fills in when it renders [Page].
type PageData struct {
	// Lang is "de" or "en"; anything else is rendered as German by the
	// scripts, so the server should normalise it.
	Lang string
	// Department is the department id from /chat/{department}; empty when
	// the page was opened with ?service= instead.
	Department string
	// DepartmentName is shown in the title and heading before the scripts
	// have loaded; may be empty.
	DepartmentName string
	// Service is the LeiKa key from ?service=, passed on when the case is
	// opened; may be empty.
	Service string
	// AuthorityName is the authority's display name; may be empty.
	AuthorityName string
	// HandOver is true on /hilfe: the page reads the online service's
	// context from its #ctx= fragment (docs/ozg.md).
	HandOver bool
	// AssetVersion is appended to asset URLs to bust caches after an
	// upgrade (for example the build's version or a hash of Assets).
	AssetVersion string
}

func mustSub(f fs.FS, dir string) fs.FS {
	sub, err := fs.Sub(f, dir)
	if err != nil {
		panic(err)
	}
	return sub
}
