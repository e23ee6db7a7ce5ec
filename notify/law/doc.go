// Package law decides, for one breach of one controller's copy, what the law
// owes each affected person and each jurisdiction. It does no I/O: its only
// input besides the arguments is the rules table compiled into the binary.
//
// # The rules table
//
// rules.tsv is derived from the project's legal research
// (shared/research/breach-law.tsv): its first 37 columns are copied verbatim,
// one row per jurisdiction with its citation, sources and a confidence level;
// the engine columns after them turn free text into the fixed vocabulary the
// code switches on (which credentials count, which email route is lawful,
// which clock a regulator deadline runs from, which content profile a notice
// uses). A column that departs from the research says why in engine_note.
// The EU/GDPR row is expanded at load time into one row per EU and EEA member
// state, each naming its supervisory authority (eea.go). The table is parsed
// once, at package initialisation, into an immutable slice; a malformed table
// is a build defect and panics (TestRulesParse catches it first).
//
// Rows are dated: in_force_from and in_force_to (either may be empty: not
// recorded) say when a row applies, and a jurisdiction may have one row per
// period (India: the CERT-In Directions until 2027-05-12, the DPDP breach
// rule from 2027-05-13). A Planner applies the rows in force on the
// incident's discovery date and names a dated row in the reasons; a
// residence with no row in force is planned like an unknown one. Every row
// carries the date it was last checked against its sources, and review,
// where counsel must look first although a duty is planned. The columns
// after engine_note (in_force_from onward) are the engine's too.
//
// Some rows turn on the incident's cause (incident.Cause): cause_notice
// makes any exposure notifiable (JP: wrongful purpose), regulator_causes
// and regulator_elements make the report owed at any count (KR), and an
// unknown cause is planned as the stricter reading. Duties counted in hours
// (deadline_hours, regulator_deadline_hours, regulator_first_hours) carry a
// due time with its zone, counted from incident.DiscoveryInstant.
//
// Jurisdiction codes are "US-TX" for US states, DC and territories (an
// account in country "US" with region "TX"; countries "PR", "GU" and "VI" are
// the territories) and ISO 3166-1 alpha-2 otherwise ("DE", "GB"; "CA" is
// Canada, never California).
//
// # Decisions
//
// A Planner is built once per incident and controller. It evaluates the
// incident's exposed elements against every row up front, so Planner.Decide
// only looks up the person's jurisdiction and picks a channel: it allocates
// nothing, and the slices in a Decision are shared and must not be modified.
//
// US rows use the statutes' data-element lists: a name (first and last, or
// the row's listed stand-ins) linked with an SSN, a driver's licence or state
// ID number, a financial account or payment card number (always taken to
// include its access code, which is the conservative reading), and the
// passport, biometric, health and date-of-birth elements where the row says
// so; plus online credentials as the row's credentials_scope says. An
// encryption safe harbour removes the duty where the row has one and the
// incident's data was encrypted with the key safe. A statute's risk-of-harm
// exception is never applied by the engine: it needs a documented finding by
// the controller, so notice is planned and the reason says the exception
// exists.
//
// Other regimes are risk based: sensitive elements (credentials, government
// and financial identifiers, health, biometric, or name with date of birth)
// are high risk and owe individual notice; only low-risk elements owe none,
// though the regulator duty may remain (see Summarize). Regimes without a
// harm threshold (KR, IN, ZA, and CN conservatively) owe notice for any
// exposure.
//
// # Invariants
//
//   - Every affected person gets exactly one Decision, and every Decision
//     names the rules that produced it in Reasons.
//   - Exposing more elements never removes a duty; encryption with a safe key
//     never adds one.
//   - No deadline falls before discovery. A deadline is "statutory" only where
//     the law fixes a number of days (calendar days, business days in BR),
//     counted from discovery even where the statute's clock starts later
//     (which can only make it earlier); otherwise it is the controller's
//     policy target for "without unreasonable delay".
//   - A person whose residence is unknown or unsupported is never skipped:
//     Review is set and the strictest rule applies (notice owed, the shortest
//     deadline of any row, every reachable channel).
//   - Email is chosen only where electronic notice is lawful for that person;
//     where email and a letter are both lawful and available, email alone is
//     sent. A retired account is owed notice but unreachable, as is anyone
//     with neither a lawful email nor a complete postal address; substitute
//     notice covers them (Summarize).
package law
