// Package groupcommit is the write queue both stores share (issue 16):
// the fsync of each commit, not the work of an update, bounds how many
// updates one writer makes durable per second, so one goroutine takes the
// update waiting first and every other one waiting at that moment and hands
// them to the store's commit as one batch. What a batch is (savepoints,
// retries, the answers) is the store's; the queue only gathers and counts.
package groupcommit

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"time"
)

// ErrStopped is Submit's answer once the queue is stopped.
var ErrStopped = errors.New("groupcommit: the queue is stopped")

// Queue gathers items for one writer goroutine. It is safe for concurrent
// use.
type Queue[T any] struct {
	items    chan T
	stop     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
	max      int
	commit   func([]T)
	mu       sync.Mutex
	observe  func(size int, d time.Duration)
}

// Start starts the writer: commit is called with batches of at most max
// items, one batch at a time, in the order the items were submitted.
func Start[T any](max int, commit func(batch []T)) *Queue[T] {
	q := &Queue[T]{items: make(chan T), stop: make(chan struct{}), done: make(chan struct{}), max: max, commit: commit}
	go q.run()
	return q
}

// Observe sets the function told each batch's size and commit time
// (metrics); nil stops telling.
func (q *Queue[T]) Observe(f func(size int, d time.Duration)) {
	q.mu.Lock()
	q.observe = f
	q.mu.Unlock()
}

// Submit hands the item to the writer. It returns ctx's error when ctx
// ends first and ErrStopped once the queue is stopped; the item's outcome
// is the store's to report (typically on a channel inside the item).
func (q *Queue[T]) Submit(ctx context.Context, item T) error {
	select {
	case q.items <- item:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-q.stop:
		return ErrStopped
	}
}

// Stop ends the writer after the batch in progress; items not taken yet
// are refused with ErrStopped.
func (q *Queue[T]) Stop() {
	q.stopOnce.Do(func() { close(q.stop) })
	<-q.done
}

// Stopped is closed once Stop was called, for callers waiting on an
// outcome that will never come.
func (q *Queue[T]) Stopped() <-chan struct{} { return q.stop }

func (q *Queue[T]) run() {
	defer close(q.done)
	for {
		var first T
		select {
		case first = <-q.items:
		case <-q.stop:
			return
		}
		batch := q.gather(first)
		start := time.Now()
		q.commit(batch)
		q.mu.Lock()
		observe := q.observe
		q.mu.Unlock()
		if observe != nil {
			observe(len(batch), time.Since(start))
		}
	}
}

// gather takes first and every item waiting. It yields the processor once
// before looking: the submitter that woke the writer handed it the CPU
// (Go runs a goroutine readied by a channel send next), so without the yield
// the other requests had not reached Submit yet, and with GOMAXPROCS=1
// measured batches were of one update each (3,257 of 3,261 in one run),
// one fsync per update. After the yield every runnable request has run to
// Submit or to some other wait.
func (q *Queue[T]) gather(first T) []T {
	runtime.Gosched()
	batch := []T{first}
	for len(batch) < q.max {
		select {
		case it := <-q.items:
			batch = append(batch, it)
		default:
			return batch
		}
	}
	return batch
}
