#include "compress/paper_accounting.h"

#include <functional>
#include <map>
#include <queue>

namespace sws {

std::vector<int> huffman_code_lengths(const std::vector<int64_t>& counts) {
  std::vector<int> lengths(counts.size(), 0);
  // Nodes: leaves are symbols; internal nodes remember their children to assign depths.
  struct Item { int64_t weight; int node; };
  auto cmp = [](const Item& a, const Item& b) { return a.weight > b.weight || (a.weight == b.weight && a.node > b.node); };
  std::priority_queue<Item, std::vector<Item>, decltype(cmp)> heap(cmp);
  std::vector<int> parent;
  std::vector<int> leaf_of_node;
  for (size_t s = 0; s < counts.size(); ++s)
    if (counts[s] > 0) {
      heap.push({counts[s], static_cast<int>(parent.size())});
      parent.push_back(-1);
      leaf_of_node.push_back(static_cast<int>(s));
    }
  if (heap.size() == 1) {
    lengths[leaf_of_node[0]] = 1;
    return lengths;
  }
  while (heap.size() > 1) {
    const Item a = heap.top();
    heap.pop();
    const Item b = heap.top();
    heap.pop();
    const int node = static_cast<int>(parent.size());
    parent.push_back(-1);
    leaf_of_node.push_back(-1);
    parent[a.node] = node, parent[b.node] = node;
    heap.push({a.weight + b.weight, node});
  }
  for (size_t n = 0; n < leaf_of_node.size(); ++n) {
    if (leaf_of_node[n] < 0) continue;
    int depth = 0;
    for (int p = parent[n]; p >= 0; p = parent[p]) ++depth;
    lengths[leaf_of_node[n]] = depth;
  }
  return lengths;
}

static int64_t coded_bits(const std::vector<int64_t>& counts) {
  const std::vector<int> lengths = huffman_code_lengths(counts);
  int64_t bits = 0;
  for (size_t s = 0; s < counts.size(); ++s) bits += counts[s] * lengths[s];
  return bits;
}

TensorAccount account_tensor(const std::string& name, const std::vector<float>& values, int gap_bits) {
  TensorAccount a;
  a.name = name;
  a.gap_bits = gap_bits;
  a.parameters = static_cast<int64_t>(values.size());
  std::map<float, int64_t> codebook;  // value -> index (1-based; 0 is the filler's zero)
  for (float v : values)
    if (v != 0.0f) codebook.emplace(v, 0);
  int64_t next = 1;
  for (auto& [v, index] : codebook) index = next++;
  a.distinct = static_cast<int64_t>(codebook.size());
  const int64_t max_gap = int64_t(1) << gap_bits;
  std::vector<int64_t> gap_counts(static_cast<size_t>(max_gap), 0), value_counts(codebook.size() + 1, 0);
  int64_t previous = -1;
  for (int64_t i = 0; i < a.parameters; ++i) {
    if (values[i] == 0.0f) continue;
    int64_t gap = i - previous;
    while (gap > max_gap) {  // a filler: a stored zero one maximal gap further on
      ++gap_counts[max_gap - 1];
      ++value_counts[0];
      ++a.fillers;
      gap -= max_gap;
    }
    ++gap_counts[gap - 1];
    ++value_counts[codebook[values[i]]];
    ++a.nonzeros;
    previous = i;
  }
  if (a.nonzeros > 0) {
    a.index_bits = coded_bits(gap_counts);
    a.value_bits = coded_bits(value_counts);
  }
  a.codebook_bits = 32 * a.distinct;
  return a;
}

PaperAccount paper_compression(const NamedTensors& tensors) {
  PaperAccount total;
  for (const auto& [name, t] : tensors) {
    total.tensors.push_back(account_tensor(name, t.to_float_vector(), t.dim() == 4 ? 8 : 5));
    total.parameters += total.tensors.back().parameters;
    total.total_bits += total.tensors.back().total_bits();
  }
  return total;
}

}  // namespace sws
