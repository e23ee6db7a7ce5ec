package law

// Content profiles name the notice variant a jurisdiction's content rules
// demand; templates key on them. Every row whose content_requirements column
// lists specific content has its own profile; rows with none specified use
// ProfileGeneric. The row's ContentRequirements field says what the profile
// must contain (or, for MA and IL, must not).
const (
	ProfileGeneric = "generic"

	ProfileUSAL = "us-al" // date/range, SPII described, restore actions, ID-theft steps, contact
	ProfileUSAZ = "us-az" // date, PI, 3 CRAs' numbers and addresses, FTC or AG contacts
	ProfileUSCA = "us-ca" // "Notice of Data Breach", fixed headings, >= 10-point type
	ProfileUSCO = "us-co" // CRA and FTC contacts, fraud alert and freeze statement
	ProfileUSCT = "us-ct" // identity theft services offered, how to enroll and freeze
	ProfileUSDC = "us-dc" // CRA, FTC and DC OAG contacts, free security freeze
	ProfileUSFL = "us-fl" // date/range, PI accessed, entity contact
	ProfileUSHI = "us-hi" // general terms, PI, acts taken, phone, stay vigilant
	ProfileUSIL = "us-il" // CRA/FTC contacts, freeze statement; must NOT state the IL count
	ProfileUSIA = "us-ia" // description, date, PI, CRA contacts, report to police or AG
	ProfileUSMD = "us-md" // categories, contact, CRA, FTC and MD AG contacts
	ProfileUSMA = "us-ma" // police report, free freeze; must NOT state nature or count
	ProfileUSMI = "us-mi" // clear and conspicuous, general terms, steps, phone, vigilance
	ProfileUSMO = "us-mo" // general terms, PI, acts taken, phone, stay vigilant
	ProfileUSNH = "us-nh" // general terms, approximate date, PI, phone
	ProfileUSNM = "us-nm" // contact, PI, date, CRA contacts, FCRA rights
	ProfileUSNY = "us-ny" // contact, state and federal agency contacts, element categories
	ProfileUSNC = "us-nc" // general terms, CRA, FTC and NC AG contacts
	ProfileUSOR = "us-or" // general terms, date, PI, CRA contacts, report to AG and FTC
	ProfileUSRI = "us-ri" // how it occurred and count, dates, remediation, police report, freeze
	ProfileUSVT = "us-vt" // general terms, PI, acts, toll-free number, date, vigilance
	ProfileUSVA = "us-va" // general terms, PI, acts taken, phone, stay vigilant
	ProfileUSWA = "us-wa" // plain language, contact, PI, timeframe, CRA contacts if SSN/ID
	ProfileUSWV = "us-wv" // info described, contact, CRA contacts, fraud alert and freeze
	ProfileUSWI = "us-wi" // must say the entity knows of the unauthorized acquisition
	ProfileUSWY = "us-wy" // toll-free numbers, PI, description, date, law-enforcement delay
	ProfileUSPR = "us-pr" // general terms, sensitive info type, toll-free number and website

	ProfileGDPR     = "gdpr"           // Art. 34(2): nature, DPO/contact, consequences, measures
	ProfileUKGDPR   = "uk-gdpr"        // UK GDPR Art. 34(2)
	ProfileCAPIPEDA = "ca-pipeda"      // circumstances, PI, steps, contact, right to complain to OPC
	ProfileAU       = "au-privacy-act" // entity, description, kinds of information, recommended steps
	ProfileBRLGPD   = "br-lgpd"        // plain language, data, risks, measures, DPO, reasons for delay
	ProfileJPAPPI   = "jp-appi"        // overview, items, cause, secondary harm
	ProfileKRPIPA   = "kr-pipa"        // items, when and how, mitigation, help desk
	ProfileSGPDPA   = "sg-pdpa"        // circumstances, data, harm, mitigation, steps, contact
	ProfileINDPDP   = "in-dpdp"        // nature, consequences, mitigation, safety steps, contact
	ProfileNZ       = "nz-privacy-act" // breach, steps, Commissioner told, complaint right; do not name the taker
	ProfileCHFADP   = "ch-fadp"        // nature, consequences, measures, contact
	ProfileCNPIPL   = "cn-pipl"        // PI categories, causes, harm, remedies, steps, contact
	ProfileZAPOPIA  = "za-popia"       // consequences, measures, steps, identity of the taker if known
)

// ContentProfiles lists every content profile, ProfileGeneric first.
func ContentProfiles() []string {
	return []string{
		ProfileGeneric,
		ProfileUSAL, ProfileUSAZ, ProfileUSCA, ProfileUSCO, ProfileUSCT, ProfileUSDC,
		ProfileUSFL, ProfileUSHI, ProfileUSIL, ProfileUSIA, ProfileUSMD, ProfileUSMA,
		ProfileUSMI, ProfileUSMO, ProfileUSNH, ProfileUSNM, ProfileUSNY, ProfileUSNC,
		ProfileUSOR, ProfileUSRI, ProfileUSVT, ProfileUSVA, ProfileUSWA, ProfileUSWV,
		ProfileUSWI, ProfileUSWY, ProfileUSPR,
		ProfileGDPR, ProfileUKGDPR, ProfileCAPIPEDA, ProfileAU, ProfileBRLGPD,
		ProfileJPAPPI, ProfileKRPIPA, ProfileSGPDPA, ProfileINDPDP, ProfileNZ,
		ProfileCHFADP, ProfileCNPIPL, ProfileZAPOPIA,
	}
}
