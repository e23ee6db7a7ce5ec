package incident

import "strings"

// SpreadsheetSafe keeps a spreadsheet from reading a CSV cell we export as
// a formula: a cell that starts with = + - @, a tab or a carriage return
// gets a leading apostrophe (OWASP's advice against CSV injection). The
// mail-house manifest and the protection-code export both use it.
func SpreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
