package letter

// countryNames are the English names printed as an address's last line,
// upper-cased as the UPU recommends; other codes print as themselves.
var countryNames = map[string]string{
	"AR": "ARGENTINA", "AT": "AUSTRIA", "AU": "AUSTRALIA", "BE": "BELGIUM", "BG": "BULGARIA", "BR": "BRAZIL",
	"CA": "CANADA", "CH": "SWITZERLAND", "CL": "CHILE", "CN": "CHINA", "CO": "COLOMBIA", "CY": "CYPRUS",
	"CZ": "CZECH REPUBLIC", "DE": "GERMANY", "DK": "DENMARK", "EE": "ESTONIA", "EG": "EGYPT", "ES": "SPAIN",
	"FI": "FINLAND", "FR": "FRANCE", "GB": "UNITED KINGDOM", "GR": "GREECE", "HK": "HONG KONG", "HR": "CROATIA",
	"HU": "HUNGARY", "ID": "INDONESIA", "IE": "IRELAND", "IL": "ISRAEL", "IN": "INDIA", "IS": "ICELAND",
	"IT": "ITALY", "JP": "JAPAN", "KE": "KENYA", "KR": "KOREA, REPUBLIC OF", "LI": "LIECHTENSTEIN",
	"LT": "LITHUANIA", "LU": "LUXEMBOURG", "LV": "LATVIA", "MA": "MOROCCO", "MT": "MALTA", "MX": "MEXICO",
	"MY": "MALAYSIA", "NG": "NIGERIA", "NL": "NETHERLANDS", "NO": "NORWAY", "NZ": "NEW ZEALAND", "PE": "PERU",
	"PH": "PHILIPPINES", "PK": "PAKISTAN", "PL": "POLAND", "PR": "PUERTO RICO", "PT": "PORTUGAL", "RO": "ROMANIA",
	"RS": "SERBIA", "SA": "SAUDI ARABIA", "SE": "SWEDEN", "SG": "SINGAPORE", "SI": "SLOVENIA", "SK": "SLOVAKIA",
	"TH": "THAILAND", "TR": "TURKEY", "TW": "TAIWAN", "UA": "UKRAINE", "US": "UNITED STATES OF AMERICA",
	"VN": "VIET NAM", "ZA": "SOUTH AFRICA",
}

func countryName(code string) string {
	if n, ok := countryNames[code]; ok {
		return n
	}
	return code
}
