// Package templates renders what breachnotice sends and shows: the breach
// notice email (HTML and plain text) today, and the blocks the letter,
// banner and public notice page reuse.
//
// # Content model
//
// A Notice is the props of one person's notice: plain values that the
// caller (package notify) derives from the incident, the controller, the
// person and the law's decision. The package imports nothing else from the
// project. Notice.Content turns the props into a Content: a title, a
// greeting, an opening paragraph and an ordered list of Sections, each a
// heading with paragraphs, an optional bullet list and contact cards. Every
// renderer (the email's HTML and text parts here, the PDF letter elsewhere)
// prints exactly that Content, so the channels cannot drift apart.
//
// # Profiles are data
//
// The law engine names a content profile per jurisdiction ("us-ca",
// "us-ma", "gdpr", ...). A profile is an entry in the profiles table
// (profile.go): the title and opening paragraph it uses, which sections it
// prints and in what order (the section id doubles as the heading's
// catalogue key), which optional content blocks it adds to the standard ones
// (a security-freeze statement, the right to a police report, the state
// attorney general's contact card, the right to complain to a regulator...)
// and which content it forbids (Massachusetts forbids describing the nature
// of the breach or the number of residents affected; Illinois forbids the
// number of residents). There is one template for all profiles.
//
// # Languages are data
//
// Every sentence comes from a message catalogue, one embedded JSON file per
// language (catalog/en.json, catalog/es.json) keyed by message id; data
// elements are worded by the "element."+id messages, keyed by the
// incident.Element string values. LangFor picks the language from an
// account's locale ("es-MX" → "es"), falling back to English. Adding a
// language is adding a file; a test checks every file has every key and the
// same placeholders.
//
// # Safety
//
// Incident text is printed only through templ's escaping (never templ.Raw),
// and everything that can reach a mail header (subject, names) goes through
// HeaderSafe. Rendering is deterministic: the same Notice gives the same
// bytes.
package templates
