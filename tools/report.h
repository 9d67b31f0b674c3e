// The Markdown a run leaves for people: report.md (accuracy per stage, sparsity, the rates) and
// the per-tensor table of the paper's accounting.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "compress/paper_accounting.h"

namespace sws {

// A Markdown table of the per-tensor account and the total.
std::string account_table(const PaperAccount& account);

// report.md of `sws run` from its metrics.json content and the account.
std::string run_report(const std::string& model, const nlohmann::json& metrics, const PaperAccount& account);

}  // namespace sws
