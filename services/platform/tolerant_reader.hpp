// Tolerant reading of JSON bodies (the article's "tolerant reader"): take the
// fields you need, ignore every other one, default the optional ones that are
// missing, and report (never throw on) required ones that are missing or mistyped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace meshsim::svc {

class tolerant_reader {
public:
    // A body that is not an object reads as one with no fields.
    explicit tolerant_reader(const nlohmann::json& body) : body_(&body) {}

    // The field if present and convertible to T, else nothing (a wrong type reads as missing).
    template <typename T>
    std::optional<T> find(std::string_view key) const {
        const nlohmann::json* field = lookup(key);
        if (field == nullptr) return std::nullopt;
        try {
            return field->get<T>();
        } catch (const nlohmann::json::exception&) {
            return std::nullopt;
        }
    }

    // An optional field: its value, or `fallback` when missing or mistyped.
    template <typename T>
    T optional(std::string_view key, T fallback) const {
        return find<T>(key).value_or(std::move(fallback));
    }

    // A required field: its value, or T{} with the field noted in errors().
    template <typename T>
    T required(std::string_view key) {
        if (auto value = find<T>(key)) return *std::move(value);
        errors_.push_back(std::string(key) + " is required");
        return T{};
    }

    bool ok() const { return errors_.empty(); }
    const std::vector<std::string>& errors() const { return errors_; }

private:
    const nlohmann::json* lookup(std::string_view key) const;

    const nlohmann::json* body_;
    std::vector<std::string> errors_;
};

}  // namespace meshsim::svc
