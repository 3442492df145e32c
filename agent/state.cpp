#include "state.hpp"

namespace pullguard {
namespace {

SlotSnapshot freshSlot(const std::string& identity, AddressFamily family) {
  SlotSnapshot slot;
  slot.identity = identity;
  slot.family = family;
  for (ProbeOutcome outcome : kAllProbeOutcomes) slot.probes_total[outcome] = 0;
  return slot;
}

}  // namespace

void State::configure(const std::vector<Identity>& identities, const Thresholds& thresholds) {
  std::vector<SlotSnapshot> slots;
  std::map<std::string, std::map<TokenOutcome, std::uint64_t>> tokens;
  for (const Identity& identity : identities) {
    const std::string& name = identity.config.name;
    for (AddressFamily family : identity.config.families) {
      const SlotSnapshot* existing = find(name, family);
      slots.push_back(existing ? *existing : freshSlot(name, family));
    }
    auto previous = current_.token_requests_total.find(name);
    if (previous != current_.token_requests_total.end()) {
      tokens[name] = previous->second;
    } else {
      for (TokenOutcome outcome : kAllTokenOutcomes) tokens[name][outcome] = 0;
    }
  }
  current_.slots = std::move(slots);
  current_.token_requests_total = std::move(tokens);
  current_.thresholds = thresholds;
}

void State::record(const std::string& identity, AddressFamily family, const ProbeResult& result) {
  SlotSnapshot* slot = find(identity, family);
  if (slot == nullptr) return;
  auto tokens = current_.token_requests_total.find(identity);
  if (tokens != current_.token_requests_total.end()) {
    for (TokenOutcome outcome : result.token_requests) ++tokens->second[outcome];
  }
  ++slot->probes_total[result.outcome];
  slot->last_outcome = result.outcome;
  slot->last_error = result.error;
  slot->last_duration_seconds = result.duration_seconds;
  slot->last_probe_at = result.finished_at;

  if (isSuccess(result.outcome)) {
    slot->consecutive_failures = 0;
    slot->last_success_at = result.finished_at;
  } else {
    ++slot->consecutive_failures;
  }
  // A reading is kept when the probe produced one: ok, unlimited, or a 429 that carried the
  // headers. Otherwise the last good reading stays, with the time it was seen.
  if (result.quota || result.outcome == ProbeOutcome::kUnlimited) {
    slot->quota = result.quota;
    slot->unlimited = result.outcome == ProbeOutcome::kUnlimited;
    slot->source = result.source;
    slot->observed_at = result.finished_at;
  }
}

void State::recordReload(bool successful, std::chrono::system_clock::time_point at) {
  current_.config_last_reload_successful = successful;
  if (successful) current_.config_last_reload_success_at = at;
}

std::shared_ptr<const Snapshot> State::snapshot() const {
  return std::make_shared<const Snapshot>(current_);
}

std::uint32_t State::consecutiveFailures(const std::string& identity, AddressFamily family) const {
  const SlotSnapshot* slot = find(identity, family);
  return slot ? slot->consecutive_failures : 0;
}

SlotSnapshot* State::find(const std::string& identity, AddressFamily family) {
  for (SlotSnapshot& slot : current_.slots) {
    if (slot.identity == identity && slot.family == family) return &slot;
  }
  return nullptr;
}

const SlotSnapshot* State::find(const std::string& identity, AddressFamily family) const {
  for (const SlotSnapshot& slot : current_.slots) {
    if (slot.identity == identity && slot.family == family) return &slot;
  }
  return nullptr;
}

}  // namespace pullguard
