package redislimit

import "github.com/redis/go-redis/v9"

// gcra is the one script every decision runs: GCRA (the generic cell rate
// algorithm) on a key's theoretical arrival time (TAT), in integers.
//
// KEYS[1] is the key. ARGV is p, u, burst, least, most: the emission
// interval T is p/u microseconds (a fraction, so that rates such as 7 per
// second are exact), and the script grants the most units it can between
// least and most, or none. Lua numbers in Redis are doubles, exact for
// integers below 2^53: times are microseconds since the epoch (about 2^51
// today) and every product stays below burst*p*2, which New checks to be
// below 2^53. Division goes through fdiv, which corrects the double's
// quotient, so nothing rounds.
//
// The key holds "tat rem u": the TAT is tat + rem/u microseconds. The time
// is Redis's own (TIME), so the gateway replicas' clocks do not matter;
// Redis 7 replicates scripts by their effects, which TIME requires.
//
// It returns {allowed, granted, remaining, retry µs, reset µs}.
const gcra = `
local p = tonumber(ARGV[1])
local u = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local least = tonumber(ARGV[4])
local most = tonumber(ARGV[5])

local function fdiv(a, b)
	local q = math.floor(a / b)
	if q * b > a then
		q = q - 1
	elseif (q + 1) * b <= a then
		q = q + 1
	end
	return q
end
local function cdiv(a, b)
	return -fdiv(-a, b)
end

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cap = burst * p
-- d is TAT - now in units of 1/u microsecond: how far the key is in debt.
local d = 0
local v = redis.call('GET', KEYS[1])
if v then
	local tat, rem, su = string.match(v, '^(%d+) (%d+) (%d+)$')
	if tat and tonumber(su) > 0 then
		tat, rem, su = tonumber(tat), tonumber(rem), tonumber(su)
		if su ~= u then
			rem = cdiv(rem * u, su)
		end
		d = (tat - now) * u + rem
		if d < 0 then
			d = 0
		elseif d > cap then
			d = cap
		end
	end
end

local avail = fdiv(cap - d, p)
local take = most
if take > avail then
	take = avail
end
if take < least then
	return {0, 0, avail, cdiv(d + least * p - cap, u), cdiv(d, u)}
end
if take > 0 then
	d = d + take * p
	local us = fdiv(d, u)
	redis.call('SET', KEYS[1], string.format('%d %d %d', now + us, d - us * u, u),
		'PX', cdiv(cdiv(d, u), 1000))
end
return {1, take, avail - take, 0, cdiv(d, u)}
`

// scriptHash is the script's SHA-1, boxed once for EVALSHA's arguments.
var scriptHash any = redis.NewScript(gcra).Hash()
