"""Drives headless Chromium through the deltagres web console (tests/it/console.rs).

Usage: console.py CONSOLE_URL SKEWED_ID RUNNING_ID SCREENSHOT_DIR

Loads the queries list (the running statement is listed with a Cancel button), the page of a
finished skewed join (its hot partition is marked), the tables list, the `orders` table's page,
the pipeline runs and the running statement's page, clicks Cancel there, and writes a
screenshot of each page. Prints one JSON object with what it saw;
exits non-zero when a page is not as expected.
"""

import json
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1400,1000"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main():
    url, skewed_id, running_id, shots = sys.argv[1:5]
    seen = {}
    driver = browser()
    try:
        driver.get(f"{url}/queries")
        seen["queries_title"] = driver.title
        rows = driver.find_elements(By.CSS_SELECTOR, f'tr.running[data-id="{running_id}"]')
        seen["running_listed"] = len(rows) == 1
        seen["cancel_buttons"] = len(driver.find_elements(By.CSS_SELECTOR, "form.cancel button"))
        driver.save_screenshot(f"{shots}/queries.png")

        driver.get(f"{url}/queries/{skewed_id}")
        hot = driver.find_elements(By.CSS_SELECTOR, ".partitions.skewed .bar.max.hot")
        seen["hot_partitions"] = len(hot)
        seen["hot_rows"] = hot[0].get_attribute("data-rows") if hot else None
        seen["skew_label"] = bool(driver.find_elements(By.CSS_SELECTOR, ".partitions .skew"))
        # The hot bar is drawn as the tallest one.
        if hot:
            seen["hot_bar_height"] = hot[0].size["height"]
            seen["tallest_bar_height"] = max(
                b.size["height"] for b in driver.find_elements(By.CSS_SELECTOR, ".skewed .bar"))
        driver.save_screenshot(f"{shots}/plan.png")

        driver.get(f"{url}/tables")
        seen["tables_listed"] = len(driver.find_elements(By.CSS_SELECTOR, "table.tables tbody tr"))
        driver.save_screenshot(f"{shots}/tables.png")
        driver.get(f"{url}/tables/public/orders")
        seen["orders_files"] = driver.find_element(By.ID, "files").text
        seen["size_bars"] = len(driver.find_elements(By.CSS_SELECTOR, "#file-sizes .bar"))
        driver.save_screenshot(f"{shots}/table.png")
        driver.get(f"{url}/pipelines")
        seen["pipelines_title"] = driver.title
        driver.save_screenshot(f"{shots}/pipelines.png")

        driver.get(f"{url}/queries/{running_id}")
        driver.save_screenshot(f"{shots}/statement.png")
        driver.find_element(By.CSS_SELECTOR, "form.cancel button").click()
        # The form posts, the server cancels and redirects back to the statement's page.
        deadline = time.time() + 15
        state = ""
        while time.time() < deadline:
            driver.get(f"{url}/queries/{running_id}")
            state = driver.find_element(By.ID, "state").text
            if "running" not in state:
                break
            time.sleep(0.2)
        seen["state_after_cancel"] = state
        driver.save_screenshot(f"{shots}/canceled.png")
    finally:
        driver.quit()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
