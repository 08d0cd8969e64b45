package sluice.bench;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.SparkConf;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.streaming.Durations;
import org.apache.spark.streaming.api.java.JavaDStream;
import org.apache.spark.streaming.api.java.JavaPairDStream;
import org.apache.spark.streaming.api.java.JavaStreamingContext;
import org.apache.spark.streaming.scheduler.BatchInfo;
import org.apache.spark.streaming.scheduler.StreamingListener;
import org.apache.spark.streaming.scheduler.StreamingListenerBatchCompleted;
import scala.Option;
import scala.Tuple2;

/**
 * The Spark Streaming (DStream) side of Sluice's `npm run bench:spark`: one of three workloads over
 * {@code socketTextStream}, in {@code local[N]} mode, printing one JSON line per completed batch on stdout.
 *
 * <p>Arguments are {@code key=value} pairs:
 *
 * <ul>
 *   <li>{@code workload}: {@code wordCount}, {@code grep} or {@code hashtags};
 *   <li>{@code port}: the loopback TCP port of the benchmark's line server;
 *   <li>{@code intervalMs}: the batch interval; {@code cores}: N of {@code local[N]} (default 2);
 *   <li>{@code grepWord} (grep), {@code windowMs} and {@code slideMs} (hashtags);
 *   <li>{@code checkpointDir} and {@code localDir}: scratch folders the caller creates and removes.
 * </ul>
 *
 * <p>Output: {@code {"event":"started",...}} once the context runs, then for every batch that had jobs
 * {@code {"event":"batch","timeMs":…,"records":…,"schedulingDelayMs":…,"processingMs":…,"totalDelayMs":…,
 * "result":…}}, where the result is the batch's full output: {@code [["word",n],…]} or a count. Closing stdin
 * stops the context and exits.
 */
public final class SparkStreamingBench {
  /** Each batch's collected output, by batch time, until the listener prints it with the batch's delays. */
  private static final Map<Long, String> RESULTS = new ConcurrentHashMap<>();

  private SparkStreamingBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> options = parse(args);
    String workload = required(options, "workload");
    int port = Integer.parseInt(required(options, "port"));
    long intervalMs = Long.parseLong(required(options, "intervalMs"));
    int cores = Integer.parseInt(options.getOrDefault("cores", "2"));

    SparkConf conf =
        new SparkConf()
            .setMaster("local[" + cores + "]")
            .setAppName("sluice-bench-" + workload)
            // Nothing listens beyond loopback, and the web UI is not needed.
            .set("spark.ui.enabled", "false")
            .set("spark.driver.host", "127.0.0.1")
            .set("spark.driver.bindAddress", "127.0.0.1")
            .set("spark.local.dir", required(options, "localDir"));
    JavaStreamingContext ssc = new JavaStreamingContext(conf, Durations.milliseconds(intervalMs));
    ssc.sparkContext().setLogLevel("WARN");

    // The default level is MEMORY_AND_DISK_SER_2; a local run has no second executor to replicate to.
    JavaDStream<String> lines =
        ssc.socketTextStream("127.0.0.1", port, StorageLevel.MEMORY_AND_DISK_SER());

    switch (workload) {
      case "wordCount" -> {
        JavaPairDStream<String, Long> counts =
            lines
                .flatMap(line -> Arrays.asList(line.split(" ")).iterator())
                .mapToPair(word -> new Tuple2<>(word, 1L))
                .reduceByKey(Long::sum);
        counts.foreachRDD((rdd, time) -> RESULTS.put(time.milliseconds(), pairsJson(rdd.collect())));
      }
      case "grep" -> {
        String word = required(options, "grepWord");
        lines
            .filter(line -> line.contains(word))
            .count()
            .foreachRDD(
                (rdd, time) -> {
                  List<Long> count = rdd.collect();
                  RESULTS.put(time.milliseconds(), String.valueOf(count.isEmpty() ? 0 : count.get(0)));
                });
      }
      case "hashtags" -> {
        long windowMs = Long.parseLong(required(options, "windowMs"));
        long slideMs = Long.parseLong(required(options, "slideMs"));
        // countByValueAndWindow is reduceByKeyAndWindow(+, −) with a filter of zero counts: it needs
        // checkpointing, because the window's state otherwise keeps a lineage that grows every slide.
        ssc.checkpoint(required(options, "checkpointDir"));
        lines
            .flatMap(SparkStreamingBench::hashtags)
            .countByValueAndWindow(Durations.milliseconds(windowMs), Durations.milliseconds(slideMs))
            .foreachRDD((rdd, time) -> RESULTS.put(time.milliseconds(), pairsJson(rdd.collect())));
      }
      default -> throw new IllegalArgumentException(
          "workload must be wordCount, grep or hashtags, got " + workload);
    }

    ssc.addStreamingListener(new BatchPrinter());
    ssc.start();
    emit("{\"event\":\"started\",\"atMs\":" + System.currentTimeMillis() + "}");

    // The benchmark driver closes stdin to stop the run (and kills the process if that takes too long).
    Thread stopper =
        new Thread(
            () -> {
              drain(System.in);
              ssc.stop(true, false);
            },
            "stdin-stop");
    stopper.setDaemon(true);
    stopper.start();
    ssc.awaitTermination();
    System.exit(0);
  }

  /** The tokens of a tweet's text that are hashtags. */
  static Iterator<String> hashtags(String text) {
    List<String> tags = new ArrayList<>();
    for (String token : text.split(" ")) {
      if (token.length() > 1 && token.charAt(0) == '#') tags.add(token);
    }
    return tags.iterator();
  }

  /** Prints each completed batch with Spark's own delays and the output the batch collected. */
  static final class BatchPrinter implements StreamingListener {
    @Override
    public void onBatchCompleted(StreamingListenerBatchCompleted completed) {
      BatchInfo info = completed.batchInfo();
      long timeMs = info.batchTime().milliseconds();
      String result = RESULTS.remove(timeMs);
      emit(
          "{\"event\":\"batch\",\"timeMs\":"
              + timeMs
              + ",\"records\":"
              + info.numRecords()
              + ",\"schedulingDelayMs\":"
              + millis(info.schedulingDelay())
              + ",\"processingMs\":"
              + millis(info.processingDelay())
              + ",\"totalDelayMs\":"
              + millis(info.totalDelay())
              + ",\"result\":"
              + (result == null ? "null" : result)
              + "}");
    }
  }

  private static String millis(Option<Object> delay) {
    return delay.isDefined() ? String.valueOf(delay.get()) : "null";
  }

  /** {@code [["key",n],…]}; keys are generated words and hashtags, but quotes are escaped all the same. */
  private static String pairsJson(List<Tuple2<String, Long>> pairs) {
    StringBuilder json = new StringBuilder(pairs.size() * 16 + 2).append('[');
    for (int i = 0; i < pairs.size(); i++) {
      Tuple2<String, Long> pair = pairs.get(i);
      if (i > 0) json.append(',');
      json.append("[\"")
          .append(pair._1().replace("\\", "\\\\").replace("\"", "\\\""))
          .append("\",")
          .append(pair._2())
          .append(']');
    }
    return json.append(']').toString();
  }

  private static void emit(String line) {
    synchronized (System.out) {
      System.out.println(line);
      System.out.flush();
    }
  }

  private static void drain(InputStream in) {
    byte[] buffer = new byte[256];
    try {
      while (in.read(buffer) >= 0) {
        // Nothing is expected on stdin; only its end matters.
      }
    } catch (IOException e) {
      // A broken stdin means the driver is gone: stop as well.
    }
  }

  private static Map<String, String> parse(String[] args) {
    Map<String, String> options = new HashMap<>();
    for (String arg : args) {
      int eq = arg.indexOf('=');
      if (eq <= 0) throw new IllegalArgumentException("arguments are key=value pairs, got " + arg);
      options.put(arg.substring(0, eq), arg.substring(eq + 1));
    }
    return options;
  }

  private static String required(Map<String, String> options, String key) {
    String value = options.get(key);
    if (value == null) throw new IllegalArgumentException("missing argument " + key + "=…");
    return value;
  }
}
