package guestchat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestCleanFileName (issue 12, point 4): a file's name shows what it is:
// no path, no control or bidi characters, and the extension of the type
// the browser will treat it as.
func TestCleanFileName(t *testing.T) {
	for _, tc := range []struct{ name, typ, want string }{
		{"Bescheid\u202Egnp.html", "image/png", "Bescheidgnp.html.png"},
		{"../../etc/Lageplan.pdf", "application/pdf", "Lageplan.pdf"},
		{`C:\Users\x\Foto.JPEG`, "image/jpeg", "Foto.JPEG"},
		{"Antrag.cmd", "image/png", "Antrag.cmd.png"},
		{"a\x00b\"c\x1b.png", "image/png", "abc.png"},
		{"", "application/pdf", "Datei.pdf"},
		{"..", "image/gif", "Datei.gif"},
		{"notes.txt", "text/plain", "notes.txt"},
	} {
		assert.Equal(t, tc.want, cleanFileName(tc.name, tc.typ), "%q as %s", tc.name, tc.typ)
	}
}
