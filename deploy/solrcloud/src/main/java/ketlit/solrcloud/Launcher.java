package ketlit.solrcloud;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.apache.zookeeper.server.ServerConfig;
import org.apache.zookeeper.server.ZooKeeperServerMain;
import org.apache.zookeeper.server.quorum.QuorumPeerConfig;

/**
 * One process of ketlit's loopback SolrCloud: either the ZooKeeper server or one Solr node.
 *
 * <pre>
 *   Launcher zk   DATA_DIR PORT
 *   Launcher solr SOLR_HOME PORT ZK_HOST
 * </pre>
 *
 * Each runs until it is killed (deploy/solrcloud/stop sends SIGTERM; Jetty and ZooKeeper stop
 * through their shutdown hooks). Every node is its own process so that a test can kill one node and
 * see the other answer, as in a real cluster.
 */
public final class Launcher {
  private Launcher() {}

  public static void main(String[] args) throws Exception {
    if (args.length >= 3 && args[0].equals("zk")) {
      runZooKeeper(Path.of(args[1]), Integer.parseInt(args[2]));
    } else if (args.length >= 4 && args[0].equals("solr")) {
      runSolr(Path.of(args[1]), Integer.parseInt(args[2]), args[3]);
    } else {
      System.err.println("usage: Launcher zk DATA_DIR PORT | Launcher solr SOLR_HOME PORT ZK_HOST");
      System.exit(2);
    }
  }

  private static void runZooKeeper(Path dataDir, int port) throws Exception {
    Files.createDirectories(dataDir);
    // Only the loopback interface: the cluster is for tests and benchmarks on this machine.
    System.setProperty("zookeeper.admin.enableServer", "false");
    System.setProperty("zookeeper.4lw.commands.whitelist", "ruok,srvr,mntr");
    Properties props = new Properties();
    props.setProperty("dataDir", dataDir.toString());
    props.setProperty("clientPort", Integer.toString(port));
    props.setProperty("clientPortAddress", "127.0.0.1");
    props.setProperty("tickTime", "2000");
    props.setProperty("maxClientCnxns", "200");
    props.setProperty("admin.enableServer", "false");
    QuorumPeerConfig quorumConfig = new QuorumPeerConfig();
    quorumConfig.parseProperties(props);
    ServerConfig config = new ServerConfig();
    config.readFrom(quorumConfig);
    new ZooKeeperServerMain().runFromConfig(config);
  }

  private static void runSolr(Path home, int port, String zkHost) throws Exception {
    Files.createDirectories(home);
    Path solrXml = home.resolve("solr.xml");
    if (!Files.exists(solrXml)) {
      Files.writeString(solrXml, SOLR_XML, StandardCharsets.UTF_8);
    }
    System.setProperty("host", "127.0.0.1");
    System.setProperty("zkHost", zkHost);
    System.setProperty("solr.solr.home", home.toString());
    Properties nodeProps = new Properties();
    nodeProps.setProperty("hostPort", Integer.toString(port));
    nodeProps.setProperty("hostContext", "/solr");
    nodeProps.setProperty("zkHost", zkHost);
    JettyConfig config =
        JettyConfig.builder().setPort(port).setContext("/solr").stopAtShutdown(true).build();
    JettySolrRunner runner = new JettySolrRunner(home.toString(), nodeProps, config);
    runner.start();
    System.out.println("solr node up at " + runner.getBaseUrl());
    Thread.currentThread().join();
  }

  private static final String SOLR_XML =
      String.join(
          "\n",
          "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>",
          "<solr>",
          "  <solrcloud>",
          "    <str name=\"host\">${host:127.0.0.1}</str>",
          "    <int name=\"hostPort\">${hostPort:8983}</int>",
          "    <str name=\"hostContext\">${hostContext:solr}</str>",
          "    <str name=\"zkHost\">${zkHost:}</str>",
          "    <int name=\"zkClientTimeout\">${zkClientTimeout:30000}</int>",
          "    <bool name=\"genericCoreNodeNames\">true</bool>",
          "    <int name=\"leaderVoteWait\">10000</int>",
          "    <int name=\"distribUpdateConnTimeout\">5000</int>",
          "    <int name=\"distribUpdateSoTimeout\">60000</int>",
          "  </solrcloud>",
          "  <shardHandlerFactory name=\"shardHandlerFactory\" class=\"HttpShardHandlerFactory\">",
          "    <int name=\"socketTimeout\">60000</int>",
          "    <int name=\"connTimeout\">5000</int>",
          "  </shardHandlerFactory>",
          "</solr>",
          "");
}
