import CMPShim
import Glibc
import MPLanguage

/// The life of a pool worker: take a chunk, run the function on each item,
/// send the results (or the first error), until told to stop.
struct PoolWorker {
  enum Mode: UInt8 {
    case single = 0  // f(item)
    case star = 1  // f(item...)
  }

  let pool: PoolHandle
  let index: Int

  func run() -> Never {
    let interp = pool.interp
    var cachedJob = -1
    var fn: Value = .nil
    let slot = pool.slot(index)
    mp_atomic_store(slot + 3, Int64(getpid()))
    runInitializer(interp)
    while true {
      let bytes: [UInt8]
      // The call's reply queue, named weakly in the chunk: this process
      // takes its own count on it while the task queue still holds the
      // chunk, so a worker killed at any instruction of the hand-over
      // neither loses the queue nor keeps it for ever. nil: the call has
      // ended and its queue has gone.
      var reply: QueueHandle? = nil
      do {
        // The chunk is written down as this worker's while the task queue
        // still holds it: whenever this worker dies, the caller knows.
        bytes = try pool.tasks.getBytes(timeout: nil, taking: { body in
          guard body.first == 1, let (job, chunk, replyAt) = PoolWorker.peek(body) else { return }
          reply = PoolWorker.replyQueue(body, at: replyAt)
          DiePoint.workerTaking.reach()
          mp_atomic_store(slot + 1, Int64(job))
          mp_atomic_store(slot + 2, Int64(chunk))
          mp_atomic_store(slot, 1)
        }, taken: {
          DiePoint.workerTaken.reach()
        })
      } catch {
        break
      }
      guard bytes.first == 1 else { break }  // 0: stop
      defer { mp_atomic_store(slot, 0) }
      do {
        var d = Codec.Decoder(bytes)
        _ = try d.byte()
        let job = try d.varint()
        let fnLen = try d.varint()
        let fnStart = d.pos
        d.pos += fnLen
        let chunk = try d.varint()
        let first = try d.varint()
        let mode = Mode(rawValue: try d.byte()) ?? .single
        _ = try d.varint()  // the reply queue, taken above
        _ = try d.varint()
        // Decoded first, skipped or not: the items' handles carry counts.
        guard case .list(let items) = try d.value() else { continue }
        guard let reply, !reply.isClosed else { continue }
        DiePoint.workerRunning.reach()
        if job != cachedJob {
          // The function's handles are pinned (the caller holds them while
          // its call lasts), and the call may end while this worker decodes
          // them: each is taken only if still there, and the chunk is
          // skipped if the call has ended (then the caller may have let
          // them go before or during the decoding).
          SharedHandle.pinnedMayBeGone = true
          let bundle = try? Codec.decode(Array(bytes[fnStart..<(fnStart + fnLen)]), countedHandles: false)
          SharedHandle.pinnedMayBeGone = false
          guard case .list(let b)? = bundle, !reply.isClosed,
            b.items.count == 3,
            case .str(let file) = b.items[1], case .map(let globals) = b.items[2]
          else { continue }
          interp.defineShipped(moduleFile: file, globals: globals, onlyMissing: true)
          fn = b.items[0]
          cachedJob = job
        }
        var out: [Value] = []
        out.reserveCapacity(items.items.count)
        var failed: (Int, MPError)? = nil
        let tracing = Trace.isOn
        for (k, item) in items.items.enumerated() {
          if tracing { Trace.record(.taskStart, object: first + k, arg: job) }
          defer { if tracing { Trace.record(.taskEnd, object: first + k, arg: job) } }
          do {
            switch mode {
            case .single: out.append(try interp.call1(fn, item))
            case .star:
              guard case .list(let args) = item else {
                throw MPError(.type, "starmap() needs lists of arguments, found \(item.typeName)")
              }
              out.append(try interp.call(fn, args.items))
            }
          } catch let e as MPError {
            if e.kind == .interrupt { throw e }
            failed = (k, e)
            break
          }
        }
        var e = Codec.Encoder()
        e.varint(job)
        e.varint(chunk)
        if let (k, err) = failed {
          e.byte(1)
          e.varint(k)
          e.varint(Int(getpid()))
          e.bytes += ChildOutcome.encodeError(err)
        } else {
          e.byte(0)
          do {
            try e.countedValue(.list(ListRef(out)))  // see QueueHandle.carriedCounts
          } catch let err as MPError {
            e = Codec.Encoder()
            e.varint(job)
            e.varint(chunk)
            e.byte(1)
            e.varint(0)
            e.varint(Int(getpid()))
            e.bytes += ChildOutcome.encodeError(err)
          }
        }
        DiePoint.workerReplying.reach()
        do {
          try reply.putEncoded(e, timeout: nil)
        } catch let err as MPError where err.kind == .closed {
          // The call ended (failed or interrupted) meanwhile: putEncoded
          // gave back the results' counts, for a message nobody will read.
          continue
        }
      } catch {
        break
      }
    }
    Runtime.finishChild(.exit(0))
  }

  /// A task message nobody will run gives back the counts its items
  /// carry (the message's layout: `peek`).
  static func dropTask(_ bytes: [UInt8]) {
    guard let at = peekBody(bytes) else { return }
    var d = Codec.Decoder(bytes)
    d.pos = at
    guard (try? d.varint()) != nil, (try? d.varint()) != nil else { return }  // the reply's weak reference
    QueueHandle.dropValue(bytes, from: d.pos)
  }

  /// A result message nobody will read gives back the counts its values
  /// carry: job, chunk, 0 and the list of results (an error carries none).
  static func dropResult(_ bytes: [UInt8]) {
    var d = Codec.Decoder(bytes)
    guard (try? d.varint()) != nil, (try? d.varint()) != nil, (try? d.byte()) == 0 else { return }
    QueueHandle.dropValue(bytes, from: d.pos)
  }

  /// The reply queue a task message names (by weak reference, at `at`),
  /// counted in for this process; nil if its call has ended.
  static func replyQueue(_ body: UnsafeRawBufferPointer, at: Int) -> QueueHandle? {
    var pos = at
    func varint() -> Int? { PoolWorker.varint(body, &pos) }
    guard let offset = varint(), let number = varint() else { return nil }
    return SharedHandle.strong(offset: offset, number: number, kind: QueueHandle.kind) as? QueueHandle
  }

  /// The codec's varint at `pos` in `body`, read in place (a task message
  /// is looked at inside the queue's `taking`, before it is copied out);
  /// nil when it runs past the end.
  static func varint(_ body: UnsafeRawBufferPointer, _ pos: inout Int) -> Int? {
    var shift = 0, v: UInt64 = 0
    while pos < body.count, shift < 64 {
      let b = body[pos]
      pos += 1
      v |= UInt64(b & 0x7f) << UInt64(shift)
      if b & 0x80 == 0 { return Int(Int64(bitPattern: v)) }
      shift += 7
    }
    return nil
  }

  /// Where the rest of a task message (its reply queue's weak reference,
  /// then its items) starts; nil for a stop message.
  static func peekBody(_ bytes: [UInt8]) -> Int? {
    bytes.withUnsafeBytes { b in peek(b).map { $0.2 } }
  }

  /// The job and chunk numbers at the start of a task message, and where
  /// its reply queue's weak reference is.
  static func peek(_ body: UnsafeRawBufferPointer) -> (Int, Int, Int)? {
    var pos = 1
    func varint() -> Int? { PoolWorker.varint(body, &pos) }
    guard let job = varint(), let fnLen = varint(), fnLen >= 0 else { return nil }
    pos += fnLen
    guard let chunk = varint(), varint() != nil, pos < body.count else { return nil }
    pos += 1  // the mode byte
    guard pos < body.count else { return nil }
    return (job, chunk, pos)
  }
}
