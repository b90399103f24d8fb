package web

import (
	_ "embed"
	"html/template"
)

//go:embed index.html
var indexHTML string

// Index renders the list of departments at / and /chat/ from an
// [IndexData]. It needs no script: a portal can link one address and a
// citizen picks the department there.
var Index = template.Must(template.New("index.html").Parse(indexHTML))

// IndexData is what the server fills in when it renders [Index].
type IndexData struct {
	// Lang is "de" or "en".
	Lang string
	// LangQuery is "?lang=<Lang>" when the language was chosen with
	// ?lang=, so the links to the chat pages keep it; else "".
	LangQuery     string
	AuthorityName string
	// PrivacyURL and ContactURL are shown as links when set; never as a
	// link without a target.
	PrivacyURL   string
	ContactURL   string
	AssetVersion string
	Departments  []IndexDepartment
}

// IndexDepartment is one entry of the list.
type IndexDepartment struct {
	ID          string
	Name        string
	Description string
	Open        bool
	// NextOpening says when a closed department opens again, in the
	// page's language ("am Montag, 30. November um 9:00 Uhr"); "" if
	// unknown.
	NextOpening string
	// OfficeHours is the weekly summary, which is German
	// ("Mo–Fr 08:00–12:00").
	OfficeHours string
}
