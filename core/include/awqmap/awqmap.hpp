#pragma once
// Everything a quantizer embedding awqmap needs.
#include "awqmap/error.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/selection.hpp"
#include "awqmap/target.hpp"
#include "awqmap/version.hpp"
#include "awqmap/toolkit.hpp"
#include "awqmap/checkpoint.hpp"
#include "awqmap/repair.hpp"
