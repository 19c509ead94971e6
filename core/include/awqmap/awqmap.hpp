#pragma once
// Everything a quantizer embedding awqmap needs.
#include "awqmap/checkpoint.hpp"
#include "awqmap/error.hpp"
#include "awqmap/mapping.hpp"
#include "awqmap/model.hpp"
#include "awqmap/model_description.hpp"
#include "awqmap/repair.hpp"
#include "awqmap/resolve.hpp"
#include "awqmap/selection.hpp"
#include "awqmap/target.hpp"
#include "awqmap/toolkit.hpp"
#include "awqmap/version.hpp"
