library(testthat)
library(fastpredict)

test_check("fastpredict")
