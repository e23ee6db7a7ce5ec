package templates

// The admin UI's view models: plain strings and numbers the handlers in
// cmd/breachnotice fill from the domain, so that this package imports
// nothing of the project. Every page is usable without JavaScript; forms
// post to the same origin.

// AdminCSS is the admin UI's stylesheet, served as /admin/admin.css (the
// pages' Content-Security-Policy allows no inline style).
const AdminCSS = `*{box-sizing:border-box}
body{margin:0;background:#f3f2f1;color:#0b0c0c;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.45}
header{background:#0b0c0c;color:#fff;padding:8px 16px;display:flex;flex-wrap:wrap;gap:8px 24px;align-items:center}
header a{color:#fff}header .who{margin-left:auto}
header form{display:inline}
nav.main a{margin-right:16px}
main{max-width:72em;margin:0 auto;padding:16px;background:#fff;min-height:80vh}
h1{font-size:28px;margin:8px 0 16px}h2{font-size:21px;margin:28px 0 8px;border-bottom:1px solid #b1b4b6}
a{color:#1d4f91}a:focus,button:focus,input:focus,select:focus,textarea:focus{outline:3px solid #fd0;outline-offset:0}
table{border-collapse:collapse;width:100%;font-size:15px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8d8d8;vertical-align:top}
th{background:#f3f2f1}
td.num,th.num{text-align:right}
.scroll{overflow-x:auto}
.flash{border-left:6px solid #00703c;background:#e8f3ec;padding:8px 12px;margin:0 0 16px}
.error{border-left:6px solid #b10e1e;background:#fbeaea;padding:8px 12px;margin:0 0 16px}
.token{font-family:monospace;word-break:break-all;background:#fff;border:1px solid #0b0c0c;padding:6px}
.tag{display:inline-block;padding:0 6px;border:1px solid #505a5f;font-size:14px}
.hold{border-color:#b10e1e;color:#b10e1e}
.actions{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-end}
.actions form{border:1px solid #b1b4b6;padding:8px 12px;min-width:0;max-width:100%}.actions form p{max-width:38em}
code{word-break:break-all}
select,input,textarea{max-width:100%}
label{display:block;font-weight:bold;margin:8px 0 4px}
label.inline{display:inline;font-weight:normal}
fieldset{border:1px solid #b1b4b6;margin:12px 0}
input[type=text],input[type=password],input[type=date],select,textarea{font-size:16px;padding:4px 6px;border:2px solid #0b0c0c;max-width:100%}
button{font-size:16px;padding:6px 14px;background:#00703c;color:#fff;border:0;border-bottom:2px solid #002d18;cursor:pointer;margin-top:8px}
button.warn{background:#b10e1e;border-bottom-color:#55070e}
button.quiet{background:#505a5f;border-bottom-color:#0b0c0c}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;margin:0}
dl.facts dt{font-weight:bold}dl.facts dd{margin:0;min-width:0;overflow-wrap:anywhere}
svg{max-width:100%;height:auto;display:block}
svg text{font-family:Arial,Helvetica,sans-serif;font-size:12px;fill:#0b0c0c}
.s-sent,.s-mailed{fill:#00703c}.s-pending,.s-queued{fill:#b1b4b6}.s-sending,.s-exported{fill:#1d70b8}
.s-deferred{fill:#f47738}.s-failed,.s-returned,.s-unprintable{fill:#b10e1e}.s-other{fill:#6f72af}
.d-met{fill:#00703c}.d-overdue{fill:#b10e1e}.d-due_soon{fill:#f47738}.d-open,.d-none{fill:#1d70b8}.d-late{fill:#b10e1e}
.legend span{display:inline-block;margin-right:12px}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:middle}
.legend .s-sent,.legend .s-mailed{background:#00703c}.legend .s-pending,.legend .s-queued{background:#b1b4b6}.legend .s-sending,.legend .s-exported{background:#1d70b8}
.legend .s-deferred{background:#f47738}.legend .s-failed,.legend .s-returned,.legend .s-unprintable{background:#b10e1e}.legend .s-other{background:#6f72af}
.skip{position:absolute;left:-9999px}.skip:focus{left:8px;top:8px;background:#fd0;color:#0b0c0c;padding:4px}
@media (max-width:600px){main{padding:8px}h1{font-size:22px}dl.facts{grid-template-columns:1fr}th,td{padding:4px}
.scroll>table{width:auto;min-width:100%}.scroll>table th,.scroll>table td{white-space:nowrap}
.scroll>table td.long{white-space:normal;min-width:20em}
.chart>svg{max-width:none}}`

// Layout is what every logged-in page shows around its content.
type Layout struct {
	Title string
	// User and Role name who is logged in ("sam", "security"; "member
	// of northbridge").
	User, Role string
	Nav        []NavItem
	// Flash is a one-line confirmation of what was just done; Error what
	// was refused.
	Flash, Error string
	// Refresh, when positive, reloads the page after that many seconds
	// (a send in progress), without JavaScript.
	Refresh int
}

// NavItem is one link of the navigation.
type NavItem struct {
	Href, Label string
	Current     bool
}

// LoginPage is the login form.
type LoginPage struct {
	Name, Error string
}

// IncidentsPage lists incidents.
type IncidentsPage struct {
	Layout
	Rows    []IncidentRow
	CanOpen bool
}

// IncidentRow is one line of the incidents list.
type IncidentRow struct {
	ID, Href, Controller, Title, Status string
	Affected, Owed                      string
	NextDeadline                        string
	Hold                                bool
}

// OpenPage is the form that opens an incident.
type OpenPage struct {
	Layout
	Controllers []Option
	Elements    []Option
	Causes      []Option
	Today       string
	// Values echo what was posted when it was refused.
	Controller, Title, Discovered, Description string
}

// Option is one choice of a select or a checkbox list.
type Option struct {
	Value, Label string
	Selected     bool
}

// IncidentPage is one incident and what the viewer may do with it.
type IncidentPage struct {
	Layout
	ID, Controller, ControllerHref, Title, Status string
	Facts                                         []Fact
	Description                                   string
	Hold                                          string // the hold, "" when none
	Scope, Affected                               string
	// Plan: the per-jurisdiction obligations table, sorted by SortBy.
	Planned     bool
	PlanSummary string
	Sort        []SortLink
	Obligations []ObligationRow
	Duties      []DutyRow
	// Deadlines as a timeline, and delivery progress as bars.
	Timeline Timeline
	// Alerts are the deadline alerts the scheduler raised, oldest first.
	Alerts   []AlertRow
	Progress string
	Delivery []DeliveryBar
	Legend   []LegendItem
	Send     string // the latest send run, "" when none
	// Bounces sums the bounces by outcome ("" when none) and lists the
	// latest; Offers counts the protection codes ("" when none imported);
	// Relays says what each relay carried.
	Bounces    string
	BounceRows []BounceRow
	Offers     string
	Relays     []Fact
	Banner     string
	// What the viewer may do (the store refuses the rest anyway).
	CanScope, CanPlan, CanSend, CanHold, CanRelease, CanPublish, CanWithdraw bool
	// FailedEmails, when set, counts the emails that failed for good and
	// a sender may put back in the queue.
	FailedEmails                string
	Courses                     []Option
	ObligationsHref, LedgerHref string
}

// AlertRow is one deadline alert the scheduler's deadline watch raised.
type AlertRow struct {
	Raised, Threshold, Due, Jurisdiction, Duty, Outstanding, Emailed string
}

// BounceRow is one bounce of an incident, without any address.
type BounceRow struct {
	Notice, Status, Outcome, MatchedBy, Arrived, Imported string
}

// Fact is one labelled fact.
type Fact struct{ Label, Value string }

// SortLink sorts the obligations table by one column.
type SortLink struct {
	Label, Href string
	Current     bool
	Num         bool
}

// ObligationRow is one jurisdiction of the plan, as incident plan prints it.
type ObligationRow struct {
	Jurisdiction, People, Owed, Email, Letter, Unreachable string
	Deadline, Regulator, CRA, Substitute, Citation         string
	// Protection is the identity theft protection owed and offered.
	Protection string
}

// DutyRow is a regulator or credit-bureau notice owed.
type DutyRow struct {
	Jurisdiction, Duty, To, Due, State, Note string
}

// Timeline draws deadlines on a line from the discovery date.
type Timeline struct {
	Width, Height string
	Axis          Line
	Today         Line
	TodayLabel    Label
	Marks         []Mark
	Labels        []Label
}

// Line is an SVG line's coordinates.
type Line struct{ X1, Y1, X2, Y2 string }

// Label is SVG text at a point.
type Label struct{ X, Y, Text, Anchor string }

// Mark is one deadline on the timeline.
type Mark struct {
	X, Y, Class, Title string
}

// DeliveryBar is one channel's notices by state, as a stacked bar.
type DeliveryBar struct {
	Channel, Total, Y, LabelY string
	Segments                  []Segment
}

// Segment is one state's share of a bar.
type Segment struct {
	X, Width, Class, Title string
}

// LegendItem explains a colour.
type LegendItem struct{ Class, Label string }

// LedgerPage is a controller's ledger.
type LedgerPage struct {
	Layout
	Controller, Name, Fingerprint string
	Size, Root                    string
	Checkpoints                   []CheckpointRow
	Entries                       []EntryRow
	ExportHref                    string
	Incidents                     []Option
	// CanSign offers to sign a checkpoint of the log as it stands.
	CanSign bool
}

// CheckpointRow is one signed checkpoint.
type CheckpointRow struct{ At, Size, Root string }

// EntryRow is one ledger entry (no personal data: the account id only).
type EntryRow struct{ Index, At, Kind, Incident, Channel string }

// AuditPage is the audit log.
type AuditPage struct {
	Layout
	Rows []AuditRow
}

// AuditRow is one audit entry.
type AuditRow struct{ At, Actor, Action, Object, Detail string }

// UsersPage manages users.
type UsersPage struct {
	Layout
	Rows        []UserRow
	Controllers []Option
	// NewToken is shown once, right after it was issued, for NewTokenFor.
	NewToken, NewTokenFor string
}

// UserRow is one user.
type UserRow struct {
	ID, Name, Role, Controller, Password, Token, Disabled string
	Enabled                                               bool
}

// ControllersPage lists the controllers whose ledgers the viewer may read.
type ControllersPage struct {
	Layout
	Rows []ControllerRow
}

// ControllerRow is one controller.
type ControllerRow struct{ ID, Name, Kind, Href string }
