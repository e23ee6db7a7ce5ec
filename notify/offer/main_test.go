package offer_test

import (
	"os"
	"testing"

	"github.com/breachnotice/breachnotice/incident/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }
