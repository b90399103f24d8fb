package tickets

import "strings"

// A request for documents is one of a fixed, small set of templates, not
// free text: the citizen reads it on a page of the authority, so its words
// are reviewed once (plain, formal German, then English) and no widget or
// command can put arbitrary text in the authority's mouth. An authority
// that needs another request writes it in the case room as a message.

// Template is a request to the citizen for a document.
type Template struct {
	// ID is the template's name in commands and in the widget API.
	ID string `json:"id"`
	// Aliases are further names in commands (the English word).
	Aliases []string `json:"-"`
	// Label names the document for staff, German and English.
	LabelDE string `json:"label_de"`
	LabelEN string `json:"label_en"`
	// Text is what the citizen reads, German and English.
	TextDE string `json:"-"`
	TextEN string `json:"-"`
}

// Templates are the document requests staff can send.
var Templates = []Template{
	{ID: "ausweis", Aliases: []string{"id"}, LabelDE: "Ausweis", LabelEN: "identity document",
		TextDE: "Bitte laden Sie hier im Chat eine Kopie Ihres Personalausweises oder Reisepasses hoch (Vorder- und Rückseite).",
		TextEN: "Please upload a copy of your identity card or passport here in the chat (front and back)."},
	{ID: "vollmacht", Aliases: []string{"authorisation", "authorization"}, LabelDE: "Vollmacht", LabelEN: "authorisation",
		TextDE: "Bitte laden Sie hier im Chat die unterschriebene Vollmacht hoch, wenn Sie für eine andere Person handeln.",
		TextEN: "If you act for another person, please upload the signed authorisation here in the chat."},
	{ID: "nachweis", Aliases: []string{"proof"}, LabelDE: "Nachweis aus dem Online-Dienst", LabelEN: "proof from the online service",
		TextDE: "Bitte laden Sie hier im Chat den Nachweis hoch, den der Online-Dienst von Ihnen verlangt hat.",
		TextEN: "Please upload here in the chat the proof that the online service asked you for."},
}

// TemplateByName returns the template a command word or API id names, or
// nil.
func TemplateByName(name string) *Template {
	name = strings.ToLower(name)
	for i := range Templates {
		t := &Templates[i]
		if t.ID == name {
			return t
		}
		for _, a := range t.Aliases {
			if a == name {
				return t
			}
		}
	}
	return nil
}

// body is the notice the citizen's page shows: German, then English.
func (t *Template) body() string { return t.TextDE + " / " + t.TextEN }
