#include "fold.hpp"

#include <algorithm>

#include "names.hpp"

namespace awqmap::cli {

bool index_component(std::string_view component, std::uint64_t& value) {
  // "007" is a name, not the index 7: folding it would print it back as 7.
  if (component.size() > 1 && component[0] == '0') return false;
  const auto parsed = detail::parse_index(component);
  if (!parsed) return false;
  value = *parsed;
  return true;
}

std::string index_set(std::vector<std::uint64_t> values) {
  std::sort(values.begin(), values.end());
  values.erase(std::unique(values.begin(), values.end()), values.end());
  if (values.size() == 1) return std::to_string(values[0]);
  std::string out = "{";
  for (std::size_t i = 0; i < values.size();) {
    std::size_t j = i;
    while (j + 1 < values.size() && values[j + 1] == values[j] + 1) ++j;
    if (i) out += ',';
    out += std::to_string(values[i]);
    if (j > i) out += (j == i + 1 ? "," : "-") + std::to_string(values[j]);
    i = j + 1;
  }
  return out + "}";
}

std::string fill_slots(std::string_view key, const std::vector<std::string>& sets, char slot) {
  std::string out;
  out.reserve(key.size() + 16 * sets.size());
  for (std::size_t i = 0; i < key.size(); ++i) {
    if ((key[i] == kSlot || key[i] == kInnerSlot) && i + 1 < key.size()) {
      if (key[i] == slot) {
        out += sets.at(static_cast<unsigned char>(key[++i]));
      } else {
        out += key[i];
        out += key[++i];
      }
    } else {
      out += key[i];
    }
  }
  return out;
}

void Folder::add(std::string key, std::vector<std::uint64_t> indices) {
  std::string row = key;
  for (auto v : indices) row += ',' + std::to_string(v);
  // A repeated row goes to a bucket of its own (its key plus how many times it came before).
  const std::size_t repeat = seen_[row]++;
  std::string bucket_key = repeat ? key + '\0' + std::to_string(repeat) : key;
  auto [it, inserted] = bucket_of_.emplace(std::move(bucket_key), buckets_.size());
  if (inserted) buckets_.push_back({std::move(key), {}});
  buckets_[it->second].rows.push_back(std::move(indices));
}

std::vector<Folder::Line> Folder::fold() const {
  std::vector<Line> lines;
  struct Item {
    std::vector<std::uint64_t> head;  // indices not folded yet
    std::vector<std::string> tail;    // sets of the indices folded already
    std::size_t rows = 1;
  };
  for (const Bucket& b : buckets_) {
    std::vector<Item> items;
    items.reserve(b.rows.size());
    for (const auto& r : b.rows) items.push_back({r, {}, 1});
    // From the last index to the first: items equal but for index d merge into one whose set
    // at d holds their values. Each pass is one hash lookup per item.
    const std::size_t k = b.rows.front().size();
    for (std::size_t d = k; d-- > 0;) {
      std::unordered_map<std::string, std::size_t> group_of;
      std::vector<Item> next;
      std::vector<std::vector<std::uint64_t>> values;
      for (Item& item : items) {
        std::string g;
        for (std::size_t i = 0; i < d; ++i) g += std::to_string(item.head[i]) + ',';
        for (const auto& s : item.tail) g += '|' + s;
        auto [it, inserted] = group_of.emplace(std::move(g), next.size());
        if (inserted) {
          next.push_back({std::vector<std::uint64_t>(item.head.begin(), item.head.begin() + d),
                          std::move(item.tail), 0});
          values.emplace_back();
        }
        values[it->second].push_back(item.head[d]);
        next[it->second].rows += item.rows;
      }
      for (std::size_t i = 0; i < next.size(); ++i)
        next[i].tail.insert(next[i].tail.begin(), index_set(std::move(values[i])));
      items = std::move(next);
    }
    for (const Item& item : items) lines.push_back({fill_slots(b.key, item.tail, slot_), item.rows});
  }
  return lines;
}

}  // namespace awqmap::cli
