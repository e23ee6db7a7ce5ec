package templates

import "slices"

// Section ids: the data-testid of a rendered section and, prefixed with
// "heading.", the catalogue key of its heading.
const (
	SectionWhatHappened    = "what-happened"
	SectionWhatInformation = "what-information"
	SectionConsequences    = "consequences"
	SectionWhatWeAreDoing  = "what-we-are-doing"
	SectionWhatYouCanDo    = "what-you-can-do"
	SectionMoreInformation = "more-information"
)

// ProfileGeneric is the profile of a notice whose jurisdiction asks for no
// specific content, and of any profile name the package does not know.
const ProfileGeneric = "generic"

// block is one piece of content a section can hold. Each block decides
// from the Notice whether it has anything to say (the password advice only
// when credentials were exposed, an agency card only when the caller gave
// the agency).
type block uint8

const (
	// What happened.
	bDescription block = iota // the incident's description, or a generic sentence
	bKnows                    // WI: the entity knows of the unauthorized acquisition
	bOccurred                 // when the breach took place
	bCount                    // RI: how many people were affected
	bDelay                    // notice delayed by law enforcement
	// What information was involved.
	bElements
	// Likely consequences.
	bConsequences
	// What we are doing.
	bMeasures
	bProtection    // identity-protection offer and how to enroll
	bRegulatorTold // the regulator is being told
	// What you can do.
	bPassword
	bPhishing
	bPayment
	bVigilance
	bFraudAlert
	bFreeze      // short security-freeze statement
	bFreezeRight // the right to a free freeze and what a request needs (replaces bFreeze)
	bPoliceReport
	bReportTheft
	bFCRA
	bAgencyInfo // where to get identity-theft information (FTC, and the AG with bAGCard)
	bCRACards
	bFTCCard
	bAGCard
	// For more information.
	bContact
	bDPO
	bComplaintInternal
	bComplaint
	bContactCard
	numBlocks
)

// blockSet is a set of blocks.
type blockSet uint64

func blocks(bs ...block) blockSet {
	var s blockSet
	for _, b := range bs {
		s |= 1 << b
	}
	return s
}

func (s blockSet) has(b block) bool { return s&(1<<b) != 0 }

// sectionBlocks lists, per section, every block it can hold in printing
// order. Standard blocks print for every profile that prints the section;
// optional ones only where the profile's extra set names them.
var sectionBlocks = map[string][]block{
	SectionWhatHappened:    {bDescription, bKnows, bOccurred, bCount, bDelay},
	SectionWhatInformation: {bElements},
	SectionConsequences:    {bConsequences},
	SectionWhatWeAreDoing:  {bMeasures, bProtection, bRegulatorTold},
	SectionWhatYouCanDo: {bPassword, bPhishing, bPayment, bVigilance, bFraudAlert, bFreeze, bFreezeRight,
		bPoliceReport, bReportTheft, bFCRA, bAgencyInfo, bCRACards, bFTCCard, bAGCard},
	SectionMoreInformation: {bContact, bDPO, bComplaintInternal, bComplaint, bContactCard},
}

// optionalBlocks print only where a profile asks for them.
var optionalBlocks = blocks(bKnows, bCount, bRegulatorTold, bFreezeRight, bPoliceReport, bFCRA,
	bAGCard, bComplaintInternal, bComplaint)

// forbid is content a profile must never print.
type forbid uint8

const (
	// forbidNature: MA (M.G.L. c.93H §3(b)) forbids describing the nature of
	// the breach: no description, no dates, no "we know it was acquired".
	forbidNature forbid = 1 << iota
	// forbidCount: MA and IL (815 ILCS 530/10(a)) forbid stating the number
	// of residents affected.
	forbidCount
)

// forbiddenBlocks names, for each forbidden content, the blocks that would
// print it.
var forbiddenBlocks = []struct {
	f  forbid
	bs blockSet
}{
	{forbidNature, blocks(bDescription, bKnows, bOccurred)},
	{forbidCount, blocks(bCount)},
}

// profile is one notice variant, as data.
type profile struct {
	title    string   // catalogue key of the title (also the subject)
	intro    string   // catalogue key of the opening paragraph
	sections []string // sections printed, in order
	extra    blockSet // optional blocks added to the standard ones
	forbid   forbid   // content never printed

	enabled blockSet // computed by compile: standard + extra - forbidden
}

// Section orders.
var (
	// usSections is California's order (Cal. Civ. Code 1798.82(d)(1)), a
	// good default everywhere.
	usSections = []string{SectionWhatHappened, SectionWhatInformation, SectionWhatWeAreDoing,
		SectionWhatYouCanDo, SectionMoreInformation}
	// riskSections adds the likely consequences the risk-based regimes ask
	// for (GDPR Art. 34(2) with 33(3)(b)-(d) and its kin).
	riskSections = []string{SectionWhatHappened, SectionWhatInformation, SectionConsequences,
		SectionWhatWeAreDoing, SectionWhatYouCanDo, SectionMoreInformation}
	// maSections leaves out what happened: Massachusetts forbids it.
	maSections = []string{SectionWhatInformation, SectionWhatWeAreDoing, SectionWhatYouCanDo,
		SectionMoreInformation}
)

// us is a US profile: California's title, headings and order, plus extras.
func us(extra ...block) profile {
	return profile{title: "title.breach", intro: "intro", sections: usSections, extra: blocks(extra...)}
}

// risk is a risk-based regime's profile outside the GDPR.
func risk(extra ...block) profile {
	return profile{title: "title.breach", intro: "intro.risk", sections: riskSections, extra: blocks(extra...)}
}

// gdpr is the GDPR Art. 34 profile: nature, contact point (DPO), likely
// consequences, measures taken or proposed; plus the regulator and the
// right to complain (Art. 77).
var gdpr = profile{title: "title.personal_data_breach", intro: "intro.gdpr", sections: riskSections,
	extra: blocks(bRegulatorTold, bComplaint)}

// profiles maps the law engine's content profile names (law.ContentProfiles)
// to their content. The comments name the rules-table content requirement
// each extra meets; the standard blocks already cover the common ones
// (description, date, information involved, measures, advice, the CRA and
// FTC contacts the caller supplies for US residents, contact details).
var profiles = compile(map[string]profile{
	ProfileGeneric: us(),
	"us-al":        us(),
	"us-az":        us(bAGCard),               // CRAs; FTC or AG contact
	"us-ca":        us(),                      // title and five headings, as usSections
	"us-co":        us(),                      // CRAs, FTC, fraud alert and freeze
	"us-ct":        us(),                      // identity-protection offer and enrolment
	"us-dc":        us(bFreezeRight, bAGCard), // FTC and DC OAG; right to a free freeze
	"us-fl":        us(),                      // contact with address, phone, email
	"us-hi":        us(),                      // stay vigilant
	"us-il":        {title: "title.breach", intro: "intro", sections: usSections, forbid: forbidCount},
	"us-ia":        us(bAGCard), // report to police or the AG
	"us-md":        us(bAGCard), // FTC and MD AG contacts
	"us-ma": {title: "title.breach", intro: "intro.neutral", sections: maSections,
		extra: blocks(bFreezeRight, bPoliceReport), forbid: forbidNature | forbidCount},
	"us-mi": us(),
	"us-mo": us(),
	"us-nh": us(),
	"us-nm": us(bFCRA),                                        // FCRA rights
	"us-ny": us(bAGCard),                                      // state and federal agencies
	"us-nc": us(bAGCard),                                      // FTC and NC AG contacts
	"us-or": us(bAGCard),                                      // report to the AG and FTC
	"us-ri": us(bCount, bFreezeRight, bPoliceReport, bAGCard), // count, police report, freeze, AG
	"us-vt": us(),
	"us-va": us(),
	"us-wa": us(),
	"us-wv": us(),
	"us-wi": us(bKnows), // the entity knows of the unauthorized acquisition
	"us-wy": us(),       // law-enforcement delay, as bDelay
	"us-pr": us(),

	"gdpr":           gdpr,
	"uk-gdpr":        gdpr,
	"ca-pipeda":      us(bComplaintInternal, bComplaint), // internal complaint process, right to complain to OPC
	"au-privacy-act": us(bComplaint),
	"br-lgpd":        {title: "title.personal_data_breach", intro: "intro.risk", sections: riskSections, extra: blocks(bRegulatorTold, bComplaint)},
	"jp-appi":        risk(),
	"kr-pipa":        risk(),
	"sg-pdpa":        risk(),
	"in-dpdp":        risk(),
	"nz-privacy-act": us(bRegulatorTold, bComplaint), // Commissioner told; right to complain
	"ch-fadp":        risk(),
	"cn-pipl":        risk(),
	"za-popia":       risk(bComplaint),
})

// compile computes each profile's enabled blocks once.
func compile(m map[string]profile) map[string]*profile {
	all := blockSet(1)<<numBlocks - 1
	out := make(map[string]*profile, len(m))
	for name, p := range m {
		p.enabled = all&^optionalBlocks | p.extra
		for _, fb := range forbiddenBlocks {
			if p.forbid&fb.f != 0 {
				p.enabled &^= fb.bs
			}
		}
		out[name] = &p
	}
	return out
}

// profileFor returns a profile by name; an unknown name gets the generic one.
func profileFor(name string) *profile {
	if p, ok := profiles[name]; ok {
		return p
	}
	return profiles[ProfileGeneric]
}

// Profiles lists the content profiles the package knows, sorted.
func Profiles() []string {
	out := make([]string, 0, len(profiles))
	for name := range profiles {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
