package incident

import "strings"

// iso3166 holds the ISO 3166-1 alpha-2 codes assigned to countries and
// territories (249 codes).
const iso3166 = `AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS
BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM
IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME
MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG
PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY
SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW`

// usRegions are the US states, DC and the inhabited territories, as ISO
// 3166-2:US subdivision codes without the "US-" prefix.
const usRegions = `AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY
NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY DC PR GU VI AS MP UM`

var (
	countrySet  = wordSet(iso3166)
	usRegionSet = wordSet(usRegions)
)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// ValidCountry reports whether code is an ISO 3166-1 alpha-2 code.
func ValidCountry(code string) bool { return countrySet[code] }

// ValidUSRegion reports whether code is a US state, DC or territory.
func ValidUSRegion(code string) bool { return usRegionSet[code] }

// NormalizeRegion returns the subdivision code without its country prefix,
// upper-cased: for country US both "TX" and "US-TX" give "TX".
func NormalizeRegion(country, region string) string {
	r := strings.ToUpper(strings.TrimSpace(region))
	if country != "" && strings.HasPrefix(r, country+"-") {
		r = r[len(country)+1:]
	}
	return r
}
