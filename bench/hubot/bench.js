// Hubot chat-dispatch benchmark, the counterpart of `opsrobot shell` in bench/run.
//
//   node bench.js LISTENERS [LINES] < lines.txt > replies.txt
//
// A Hubot 14 robot (name "Hubot", alias "!", no HTTP server) with an in-process adapter of its own: it reads
// stdin one message per line (no readline prompt, no history file), hands each line to robot.receive() one
// after the other (the next line only once the previous one is fully dispatched, as the shell does), and writes
// every reply to stdout, one per line. The echo command is `robot.respond(/echo (.*)$/i)`: with the alias "!",
// Hubot builds the regex ^\s*[@]?(?:Hubot[:,]?|![:,]?)\s*(?:echo (.*)$), so `!echo line N` is an addressed
// command as in OpsRobot, and the reply is `line N`.
//
// LISTENERS = 1: the echo listener only. LISTENERS = N > 1: N - 1 listeners
// robot.respond(/deploy{k} (\S+) to (\S+)$/i) (k = 1 .. N-1, i.e. ^!deploy{k} (\S+) to (\S+)$ after the
// alias), then the echo listener last, so every line is tried against all the others first: Hubot's linear scan.
//
// When the LINES-th reply has been written (or, without LINES, when stdin is closed and every line has its
// reply), prints to stderr, tab-separated: listeners, lines, ms since process start, lines/s since process start,
// ms of dispatch only (first line read to last reply), lines/s of dispatch only. Then exits 0.
import { Robot, Adapter, TextMessage } from 'hubot'
import { createInterface } from 'node:readline'
import { performance } from 'node:perf_hooks'

const listeners = Number.parseInt(process.argv[2] ?? '1', 10)
const expected = process.argv[3] === undefined ? null : Number.parseInt(process.argv[3], 10)
if (!(listeners >= 1) || (expected !== null && !(expected >= 1))) {
  process.stderr.write('usage: node bench.js LISTENERS [LINES] < lines > replies\n')
  process.exit(2)
}

let read = 0
let replies = 0
let inputClosed = false
let firstLineAt = null

function finish () {
  const total = performance.now() // ms since the process started
  const dispatch = total - (firstLineAt ?? total)
  const rate = (ms) => (replies / (ms / 1000)).toFixed(0)
  process.stderr.write(`${listeners}\t${replies}\t${total.toFixed(0)}\t${rate(total)}\t${dispatch.toFixed(0)}\t${rate(dispatch)}\n`)
  process.exit(0)
}

function maybeFinish () {
  if (expected !== null ? replies === expected : (inputClosed && replies === read)) finish()
}

class StdinAdapter extends Adapter {
  async send (envelope, ...strings) {
    for (const s of strings) {
      process.stdout.write(`${s}\n`)
      replies++
    }
    maybeFinish()
  }

  async reply (envelope, ...strings) {
    return this.send(envelope, ...strings)
  }

  async run () {
    const user = this.robot.brain.userForId('1', { name: 'bench', room: 'shell' })
    const rl = createInterface({ input: process.stdin, terminal: false, crlfDelay: Infinity })
    this.emit('connected')
    for await (const line of rl) {
      if (line === '') continue
      if (firstLineAt === null) firstLineAt = performance.now()
      read++
      await this.robot.receive(new TextMessage(user, line, `m${read}`))
    }
    inputClosed = true
    if (expected !== null && replies < expected) {
      process.stderr.write(`bench.js: input ended after ${read} lines with ${replies} replies, expected ${expected}\n`)
      process.exit(1)
    }
    maybeFinish()
  }

  close () {}
}

process.env.HUBOT_LOG_LEVEL ??= 'error'
const robot = new Robot({ use: async (r) => new StdinAdapter(r) }, false, 'Hubot', '!')
await robot.loadAdapter()

for (let k = 1; k < listeners; k++) {
  robot.respond(new RegExp(`deploy${k} (\\S+) to (\\S+)$`, 'i'), (res) => res.send(`deploy${k} ${res.match[1]} to ${res.match[2]}`))
}
robot.respond(/echo (.*)$/i, (res) => res.send(res.match[1]))

await robot.run()
