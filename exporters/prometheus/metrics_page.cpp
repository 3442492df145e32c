#include "prometheus/metrics_page.hpp"

#include <prometheus/text_serializer.h>

#include "prometheus/collector.hpp"

namespace pullguard {

std::string MetricsPage::render() {
  std::shared_ptr<const Snapshot> snapshot = publisher_.latest();
  std::lock_guard lock(mutex_);
  if (snapshot != rendered_for_) {
    text_ = prometheus::TextSerializer().Serialize(buildMetricFamilies(*snapshot));
    rendered_for_ = std::move(snapshot);
  }
  return text_;
}

}  // namespace pullguard
