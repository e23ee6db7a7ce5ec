package law

// eeaState is one EU or EEA member state under the GDPR.
type eeaState struct {
	code, name, authority string
	eea                   bool // EFTA EEA state: GDPR applies through the EEA Agreement
	// complaint is how a notice names the authority a resident may
	// complain to, where it differs from authority.
	complaint string
}

// eeaStates lists the GDPR member states and their national supervisory
// authorities. Source: not in the research file; the authorities are the
// members of the European Data Protection Board
// (edpb.europa.eu/about-edpb/about-edpb/members_en), named from the
// implementer's knowledge and not re-verified this session. The authority
// named is the one a resident may complain to (GDPR Art. 77(1): the
// supervisory authority of the Member State of the person's habitual
// residence, place of work or place of the alleged infringement; the
// notice names the residence's). In Germany each Land has its own
// authority (BfDI is the federal one), so the notice names the authority
// of the Land where the person lives. Issue 12's review found the German
// row named "the authority of the Land where the controller is
// established", which is the competent authority for the controller's
// report (Arts. 55-56), not the person's complaint authority.
// The GDPR applies in IS, LI and NO through EEA Joint Committee Decision
// 154/2018.
var eeaStates = []eeaState{
	{"AT", "Austria", "Österreichische Datenschutzbehörde (DSB)", false, ""},
	{"BE", "Belgium", "Autorité de protection des données / Gegevensbeschermingsautoriteit (APD/GBA)", false, ""},
	{"BG", "Bulgaria", "Commission for Personal Data Protection (CPDP)", false, ""},
	{"HR", "Croatia", "Agencija za zaštitu osobnih podataka (AZOP)", false, ""},
	{"CY", "Cyprus", "Commissioner for Personal Data Protection", false, ""},
	{"CZ", "Czechia", "Úřad pro ochranu osobních údajů (ÚOOÚ)", false, ""},
	{"DK", "Denmark", "Datatilsynet", false, ""},
	{"EE", "Estonia", "Andmekaitse Inspektsioon (Estonian Data Protection Inspectorate)", false, ""},
	{"FI", "Finland", "Office of the Data Protection Ombudsman (Tietosuojavaltuutetun toimisto)", false, ""},
	{"FR", "France", "Commission nationale de l'informatique et des libertés (CNIL)", false, ""},
	{"DE", "Germany", "data protection authority of the Land (state) where the person lives (federal: BfDI)", false,
		"data protection authority of the Land (state) where you live"},
	{"GR", "Greece", "Hellenic Data Protection Authority (HDPA)", false, ""},
	{"HU", "Hungary", "Nemzeti Adatvédelmi és Információszabadság Hatóság (NAIH)", false, ""},
	{"IE", "Ireland", "Data Protection Commission (DPC)", false, ""},
	{"IT", "Italy", "Garante per la protezione dei dati personali", false, ""},
	{"LV", "Latvia", "Datu valsts inspekcija (Data State Inspectorate)", false, ""},
	{"LT", "Lithuania", "Valstybinė duomenų apsaugos inspekcija (State Data Protection Inspectorate)", false, ""},
	{"LU", "Luxembourg", "Commission nationale pour la protection des données (CNPD)", false, ""},
	{"MT", "Malta", "Information and Data Protection Commissioner (IDPC)", false, ""},
	{"NL", "Netherlands", "Autoriteit Persoonsgegevens (AP)", false, ""},
	{"PL", "Poland", "Urząd Ochrony Danych Osobowych (UODO)", false, ""},
	{"PT", "Portugal", "Comissão Nacional de Proteção de Dados (CNPD)", false, ""},
	{"RO", "Romania", "Autoritatea Națională de Supraveghere a Prelucrării Datelor cu Caracter Personal (ANSPDCP)", false, ""},
	{"SK", "Slovakia", "Úrad na ochranu osobných údajov Slovenskej republiky", false, ""},
	{"SI", "Slovenia", "Informacijski pooblaščenec (Information Commissioner)", false, ""},
	{"ES", "Spain", "Agencia Española de Protección de Datos (AEPD)", false, ""},
	{"SE", "Sweden", "Integritetsskyddsmyndigheten (IMY)", false, ""},
	{"IS", "Iceland", "Persónuvernd", true, ""},
	{"LI", "Liechtenstein", "Datenschutzstelle (DSS)", true, ""},
	{"NO", "Norway", "Datatilsynet", true, ""},
}

// expandEEA turns the research's single EU/GDPR row into one row per member
// state. Only the code, name, citation (EEA states), regulator and engine note
// change; every legal fact is the GDPR row's.
func expandEEA(eu Rule) []Rule {
	out := make([]Rule, 0, len(eeaStates))
	for _, s := range eeaStates {
		r := eu
		r.Code = s.code
		r.Name = s.name + " (GDPR)"
		r.DerivedFrom = eu.Code
		if s.eea {
			r.Name = s.name + " (GDPR via the EEA Agreement)"
			r.Citation = eu.Citation + ", as incorporated into the EEA Agreement (EEA Joint Committee Decision 154/2018)"
		}
		// Art. 33 reports go to the authority competent under Art. 55-56:
		// the lead authority of the controller's main establishment in a
		// cross-border case, which need not be the residents' own.
		r.Regulator = "competent supervisory authority under GDPR Arts. 55-56 (lead authority in a cross-border case); for residents of " +
			s.name + ": " + s.authority
		r.ComplaintAuthority = s.authority
		if s.complaint != "" {
			r.ComplaintAuthority = s.complaint
		}
		r.EngineNote = "expanded from the EU/GDPR row; supervisory authority from the EDPB member list (not in the research file)"
		// The authority named in notices is not the research's: say so
		// where the row says where its facts come from.
		r.Source = eu.Source + "; supervisory and complaint authority names: EDPB member list as recalled in notify/law/eea.go (not re-verified); complaint authority per GDPR Art. 77(1) (issue 12 review)"
		out = append(out, r)
	}
	return out
}
