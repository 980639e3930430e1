package approval

import "testing"

// TestSuggestCategory: a draft's category is suggested by code from words of the merchant's
// name, whole words for short ones, and "other" when none says.
func TestSuggestCategory(t *testing.T) {
	for merchant, want := range map[string]string{
		"City Cab Co": "transport", "Harbor Inn": "lodging", "Deutsche Bahn AG": "transport", "Café Central": "meals",
		"Barnes & Noble": "other", "Office Depot": "office", "": "other", "Hotelplan Suites": "lodging", "Lufthansa": "travel",
	} {
		if got := SuggestCategory(merchant); got != want {
			t.Errorf("SuggestCategory(%q) = %q, want %q", merchant, got, want)
		}
	}
}
