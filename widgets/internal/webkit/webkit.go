// Package webkit owns the web assets the pages of rathaus's widgets share:
// plain ES modules (dom.js, dialog.js, api.js with the fetch wrapper and the
// retry rules, i18n.js with t() and formatting) and base.css (colours,
// focus, forms, buttons, dialogs), embedded with no build step. A widget
// keeps its own texts, endpoints and layout, serves the kit under
// <its assets>/kit/ with [AssetServer], and imports it as './kit/<file>'.
//
// nodehooks.mjs lets node --test resolve those './kit/' imports to this
// directory, so a widget's module tests run against the kit's sources.
package webkit

import (
	"embed"
	"io/fs"
)

// KitDir is the directory under a widget's assets where the kit is served.
const KitDir = "kit"

// The tests (*.test.mjs) and nodehooks.mjs are not matched, so never
// served. vendor/ holds third-party code (vendor/README.md).
//
//go:embed *.js *.css vendor/livekit-client.umd.js vendor/LICENSE.livekit-client
var kitFiles embed.FS

// Assets is the kit: its modules and base.css.
var Assets fs.FS = kitFiles
