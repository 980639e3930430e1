package store_test

import (
	"fmt"
	"testing"

	"github.com/expensebot/expensebot"
	"github.com/expensebot/expensebot/store/storetest"
)

// BenchmarkSubmit measures one submission: the expense row and its audit event in one transaction.
func BenchmarkSubmit(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				i++
				if _, _, err := db.Submit(ctx, newExpense(fmt.Sprintf("b%d", i), "U1", 4250)); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDecide measures one atomic reviewer decision on a pending expense.
func BenchmarkDecide(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			ids := make([]int64, 0, 1024)
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				if len(ids) == 0 {
					b.StopTimer()
					for range 1024 {
						n++
						e, _, _ := db.Submit(ctx, newExpense(fmt.Sprintf("d%d", n), "USUB", 250000))
						e, _ = db.Route(ctx, e.ID, nil, expensebot.Route{ApprovalsRequired: 1})
						ids = append(ids, e.ID)
					}
					b.StartTimer()
				}
				id := ids[len(ids)-1]
				ids = ids[:len(ids)-1]
				if _, err := db.Decide(ctx, expensebot.Decision{ExpenseID: id, Reviewer: "UREV", Outcome: expensebot.Approve}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkHistoryPage measures one page of 10 from a submitter with 1,000 expenses.
func BenchmarkHistoryPage(b *testing.B) {
	for _, engine := range storetest.Engines {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Open(b, engine)
			for i := range 1000 {
				db.Submit(ctx, newExpense(fmt.Sprintf("h%d", i), "U1", int64(100+i)))
			}
			b.ReportAllocs()
			for b.Loop() {
				page, err := db.BySubmitter(ctx, "U1", 0, 10)
				if err != nil || len(page) != 10 {
					b.Fatal(len(page), err)
				}
			}
		})
	}
}
